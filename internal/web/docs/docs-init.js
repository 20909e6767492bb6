// Starts Swagger UI on the page's #swagger-ui element, reading the
// description from the URL in its data-spec-url attribute. A file of its
// own, not an inline script, so the page's CSP can say script-src 'self'.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.specUrl,
    domNode: el,
    deepLinking: true,
    // No badge fetched from validator.swagger.io: nothing leaves this host.
    validatorUrl: null,
    // Configuration from the page's query string would let a link load
    // another description into this origin.
    queryConfigEnabled: false,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
