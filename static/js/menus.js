// The two Bootstrap behaviours the layout uses, and nothing else: the navbar's collapse (the menu
// button on a phone) and the grouped menus' dropdowns. Same markup and classes as Bootstrap
// (data-bs-toggle, .show, aria-expanded), so the Bootstrap CSS subset styles them unchanged.
(function () {
  "use strict";
  function menuOf(toggle) { return toggle.parentElement.querySelector(".dropdown-menu"); }
  function items(menu) { return Array.prototype.slice.call(menu.querySelectorAll(".dropdown-item")); }
  function close(toggle, focusToggle) {
    var menu = menuOf(toggle);
    if (!menu || !menu.classList.contains("show")) { return; }
    menu.classList.remove("show");
    toggle.classList.remove("show");
    toggle.setAttribute("aria-expanded", "false");
    if (focusToggle) { toggle.focus(); }
  }
  function closeAll(except) {
    document.querySelectorAll('[data-bs-toggle="dropdown"][aria-expanded="true"]').forEach(function (t) {
      if (t !== except) { close(t, false); }
    });
  }
  function open(toggle, focusFirst) {
    var menu = menuOf(toggle);
    closeAll(toggle);
    menu.classList.add("show");
    toggle.classList.add("show");
    toggle.setAttribute("aria-expanded", "true");
    if (focusFirst && items(menu).length) { items(menu)[0].focus(); }
  }

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest('[data-bs-toggle="dropdown"]');
    if (toggle) {
      ev.preventDefault();
      if (toggle.getAttribute("aria-expanded") === "true") { close(toggle, false); } else { open(toggle, false); }
      return;
    }
    var collapser = ev.target.closest('[data-bs-toggle="collapse"]');
    if (collapser) {
      var target = document.querySelector(collapser.getAttribute("data-bs-target"));
      var shown = target.classList.toggle("show");
      collapser.classList.toggle("collapsed", !shown);
      collapser.setAttribute("aria-expanded", shown ? "true" : "false");
      return;
    }
    if (!ev.target.closest(".dropdown-menu")) { closeAll(null); }
  });

  // Keyboard: Escape closes and returns to the button; arrows open the menu and move along it.
  document.addEventListener("keydown", function (ev) {
    var dropdown = ev.target.closest(".dropdown");
    if (!dropdown) { return; }
    var toggle = dropdown.querySelector('[data-bs-toggle="dropdown"]');
    var menu = menuOf(toggle);
    if (ev.key === "Escape") { close(toggle, true); return; }
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") { return; }
    ev.preventDefault();
    if (!menu.classList.contains("show")) { open(toggle, true); return; }
    var list = items(menu), at = list.indexOf(document.activeElement);
    var next = ev.key === "ArrowDown" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
    list[next].focus();
  });

  // Leaving a menu with Tab closes it.
  document.addEventListener("focusout", function (ev) {
    var dropdown = ev.target.closest(".dropdown");
    if (dropdown && ev.relatedTarget && !dropdown.contains(ev.relatedTarget)) {
      close(dropdown.querySelector('[data-bs-toggle="dropdown"]'), false);
    }
  });
})();
