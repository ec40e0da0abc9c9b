// The API docs page (/api/v1/docs): start ReDoc on #redoc with the schema URL and the CSP nonce
// the page carries, which ReDoc puts on the <style> elements it inserts.
(function () {
  var container = document.getElementById("redoc");
  window.Redoc.init(container.dataset.specUrl, { nonce: container.dataset.styleNonce }, container);
})();
