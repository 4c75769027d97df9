// Progressive enhancement only: every page works without this file.
document.querySelectorAll("[data-confirm]").forEach(function (el) {
  el.addEventListener("submit", function (ev) {
    if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
});
// A sent-back form: its error summary takes the focus, so the reader hears what to correct.
(function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
