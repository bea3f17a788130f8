/* Small progressive enhancements of the bank portal (no inline script, CSP friendly).
 * - forms with data-confirm ask before submitting;
 * - the upload form disables its button while the file is sent;
 * - elements with data-copy copy their target's text.
 */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fn); } else { fn(); }
  }

  onReady(function () {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    document.querySelectorAll("form[data-busy-label]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[type=submit]");
        if (button) {
          window.setTimeout(function () {
            button.disabled = true;
            button.textContent = form.getAttribute("data-busy-label");
          }, 0);
        }
      });
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent.trim()).then(function () { button.textContent = "已复制"; });
        }
      });
    });
  });
})();
