"""Expert panels for contests: tracks, criteria, experts, applications, scores, results."""
