/* The counter page: the total to collect follows the residents ticked. */
(function () {
  var form = document.getElementById("pay-form");
  if (!form || !document.getElementById("pay-total")) return;  // nobody left to pay: no total to follow
  function update() {
    var cents = 0, n = 0;
    form.querySelectorAll("input[name=residents]:checked").forEach(function (box) {
      cents += Math.round(parseFloat(box.dataset.amount) * 100); n += 1;
    });
    var text = (cents / 100).toFixed(2);
    document.getElementById("pay-total").textContent = text;
    document.getElementById("pay-amount").value = text;
    document.getElementById("pay-button").disabled = n === 0;
  }
  form.addEventListener("change", update);
  update();
})();
