// A button with data-confirm="question" asks the question before its form is submitted; Cancel
// stops the submission. Without JavaScript the button submits as it is. (No inline handlers: the
// Content-Security-Policy allows scripts from our own files only.)
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
