// Progressive enhancement only: every page works without this file.
document.querySelectorAll("[data-confirm]").forEach(function (el) {
  el.addEventListener("submit", function (ev) {
    if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
});
