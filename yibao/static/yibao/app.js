/* Small behaviours shared by every page. No inline scripts or handlers: the CSP forbids them.
   <select data-autosubmit>            submits its form when changed
   <input type="checkbox" data-check-all="NAME">  ticks or clears every checkbox named NAME */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
    if (target.matches("input[type=checkbox][data-check-all]")) {
      var name = target.getAttribute("data-check-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });
})();
