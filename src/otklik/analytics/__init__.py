"""Analytics: dashboards, findings, ratings, the daily rollup."""
