/* The sidebar buttons, working at every width (served from _static/, scripts/build_book.py copies it there).
   pydata-sphinx-theme 0.17 binds its sidebar dialogs to the first element of class primary-toggle (and
   secondary-toggle) only; with sphinx-book-theme that is a hidden button, so the visible one does nothing
   (pydata-sphinx-theme issue #2451). This binds every such button, before the theme's own handler:
   where the sidebar is shown beside the page, the button hides it or shows it again; where it is not (a
   phone), the button opens it as the theme's dialog, whose closing the theme already handles. */
(function () {
  const pairs = [
    [".primary-toggle", "pst-primary-sidebar", "pst-primary-sidebar-modal"],
    [".secondary-toggle", "pst-secondary-sidebar", "pst-secondary-sidebar-modal"],
  ];
  // On a narrow screen the theme keeps the sidebar in the layout, hidden and moved off the screen.
  const shownBesideThePage = (sidebar) => {
    const box = sidebar.getBoundingClientRect();
    const style = getComputedStyle(sidebar);
    return box.width > 0 && box.right > 0 && style.display !== "none" && style.visibility !== "hidden";
  };
  document.addEventListener(
    "click",
    (event) => {
      for (const [selector, sidebarId, dialogId] of pairs) {
        const button = event.target.closest && event.target.closest(selector);
        const sidebar = document.getElementById(sidebarId);
        const dialog = document.getElementById(dialogId);
        if (!button || !sidebar || !dialog) continue;
        event.preventDefault();
        event.stopPropagation();
        if (sidebar.classList.contains("memo-hidden")) {
          sidebar.classList.remove("memo-hidden");
        } else if (shownBesideThePage(sidebar)) {
          sidebar.classList.add("memo-hidden");
        } else if (!dialog.open) {
          Array.from(sidebar.childNodes).forEach((node) => dialog.appendChild(node));
          Array.from(sidebar.classList).forEach((cls) => {
            sidebar.classList.remove(cls);
            dialog.classList.add(cls);
          });
          dialog.showModal();
        }
        return;
      }
    },
    true,
  );
})();
