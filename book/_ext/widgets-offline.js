// Lets the vendored ipywidgets HTML manager work from the book's own files, offline.
// 1. Its webpack chunks and fonts are resolved relative to the AMD module's URL: point that
//    URL at _static/html-manager/ (relative to this page) instead of the page's own folder.
// 2. It typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); the book loads
//    MathJax 3, so map that call onto MathJax 3's typesetPromise.
(function () {
  var root = document.documentElement.dataset.content_root || "";
  require.config({paths: {"@jupyter-widgets/html-manager/dist": root + "_static/html-manager"}});
  function shimMathJax() {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {Queue: function () {
        if (window.MathJax.typesetPromise) { window.MathJax.typesetPromise(); }
      }};
    }
  }
  document.addEventListener("DOMContentLoaded", shimMathJax);
})();
