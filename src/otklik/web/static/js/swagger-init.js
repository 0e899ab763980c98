// Swagger UI for /api/openapi.json; a separate file so the page needs no inline script (CSP).
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
