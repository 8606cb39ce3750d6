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

/* Confirmation sheet of money actions (yibao.core.confirm).
   <form data-confirm>  posts first to get the server's sheet; shown in a <dialog> (a bottom sheet on
                        a phone). Without JS (or if anything fails) the form posts and the sheet is a page.
   In the sheet: the change (找零) follows the cash received; 取消 closes the dialog; the 确认 button
   is disabled once pressed, so a second tap sends nothing. */
(function () {
  "use strict";
  function dialog() {
    var box = document.getElementById("confirm-dialog");
    if (!box) {
      box = document.createElement("dialog");
      box.id = "confirm-dialog";
      box.className = "sheet-dialog";
      document.body.appendChild(box);
    }
    return box;
  }
  function cents(text) {
    var t = String(text || "").trim();
    if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
    return Math.round(parseFloat(t) * 100);
  }
  function money(c) {
    var s = (c / 100).toFixed(2).split(".");
    return s[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + s[1];
  }
  function updateChange(input) {
    var sheet = input.closest(".confirm-sheet");
    var out = sheet.querySelector("[data-field=change]");
    var button = sheet.querySelector("#confirm-button");
    var total = cents(input.getAttribute("data-total"));
    var got = cents(input.value);
    if (got === null || total === null) {
      out.textContent = input.value.trim() ? "请输入金额，如 500 或 500.00" : "";
      if (button) button.disabled = !!input.value.trim();
      return;
    }
    if (got < total) {
      out.textContent = "实收少于应收 " + money(total) + " 元，还差 " + money(total - got) + " 元";
      if (button) button.disabled = true;
      return;
    }
    out.textContent = "找零 " + money(got - total) + " 元";
    if (button) button.disabled = false;
  }
  function prepare(root) {
    root.querySelectorAll(".confirm-recalc").forEach(function (p) { p.hidden = true; });
    var input = root.querySelector("input[name=received]");
    if (input && input.value) updateChange(input);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches(".confirm-sheet input[name=received]")) updateChange(event.target);
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-sheet-cancel]");
    var box = document.getElementById("confirm-dialog");
    if (cancel && box && box.open && box.contains(cancel)) {
      event.preventDefault();
      box.close();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-sheet]")) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      window.setTimeout(function () {
        var button = form.querySelector("#confirm-button");
        if (button) button.disabled = true;
      }, 0);
      return;
    }
    var submitter = event.submitter || null;
    var wanted = form.matches("form[data-confirm]") || (submitter && submitter.matches("[data-confirm]"));
    if (!wanted || !window.fetch || typeof HTMLDialogElement === "undefined") return;
    event.preventDefault();
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var url = form.getAttribute("action") || window.location.href;  // form.action may be a field named "action"
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Confirm-Sheet": "1" } })
      .then(function (response) {
        if (response.headers.get("X-Confirm-Sheet") !== "1") throw new Error("not a sheet");
        return response.text();
      })
      .then(function (html) {
        var box = dialog();
        box.innerHTML = html;
        prepare(box);
        box.showModal();
        var first = box.querySelector("input[name=received]") || box.querySelector("#confirm-button");
        if (first) first.focus();
      })
      .catch(function () {  // the plain POST: the sheet comes as a page
        if (submitter && submitter.name) {
          var keep = document.createElement("input");
          keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value;
          form.appendChild(keep);
        }
        HTMLFormElement.prototype.submit.call(form);
      });
  });
  prepare(document);
})();
