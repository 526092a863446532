window.ui = SwaggerUIBundle({
  url: "/v2/schema/",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  deepLinking: true,
});
