// Sign-up: propose the browser's time zone in a <select data-propose-browser-zone> that the visitor
// has not chosen from yet. Only a zone the select offers is taken; otherwise the server's default stays
// (as it does without JavaScript). Loaded with <script src>: the pages' CSP allows no inline script.
(function () {
  "use strict";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function propose() {
    var zone = browserZone();
    if (!zone) {
      return;
    }
    var selects = document.querySelectorAll("select[data-propose-browser-zone]");
    Array.prototype.forEach.call(selects, function (select) {
      var offered = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      if (offered) {
        select.value = zone;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", propose);
  } else {
    propose();
  }
})();
