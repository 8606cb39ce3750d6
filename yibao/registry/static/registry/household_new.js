// Spare member rows stay hidden until asked for (phones have little room).
(function () {
  var spare = Array.prototype.slice.call(document.querySelectorAll("section.member[data-spare]"));
  var more = document.getElementById("more-members");
  if (!spare.length) return;
  spare.forEach(function (s) { s.hidden = true; });
  more.hidden = false;
  more.addEventListener("click", function () {
    var next = spare.shift();
    if (next) { next.hidden = false; var input = next.querySelector("input"); if (input) input.focus(); }
    if (!spare.length) more.hidden = true;
  });
})();
