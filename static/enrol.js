// The course page's enrolment form: a live count of the people ticked, beside the sticky
// submit button, and a word when more are ticked than seats left. Without JavaScript the
// form works the same (the count stays hidden): the server enrols those who fit.
(function () {
  "use strict";
  var form = document.querySelector("form[data-enrol-count]");
  if (!form) return;
  var output = form.querySelector(".tick-count");
  if (!output) return;
  var lang = document.documentElement.lang || undefined;
  var plural = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  var number = window.Intl ? new Intl.NumberFormat(lang) : null;
  var left = output.getAttribute("data-left");
  var seatsLeft = left === "" ? null : parseInt(left, 10);

  function format(n) { return number ? number.format(n) : String(n); }

  function update() {
    var ticked = form.querySelectorAll('input[name="participant_ids"]:checked').length;
    var category = plural ? plural.select(ticked) : (ticked === 1 ? "one" : "other");
    var template = output.getAttribute(category === "one" ? "data-one" : "data-other");
    var text = template.replace("{n}", format(ticked));
    var over = seatsLeft !== null && ticked > seatsLeft;
    if (over) {
      text += " · " + (seatsLeft === 0
        ? output.getAttribute("data-full")
        : output.getAttribute("data-over").replace("{left}", format(seatsLeft)));
    }
    output.textContent = text;
    output.classList.toggle("over", over);
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "participant_ids") update();
  });
  output.hidden = false;
  update();
})();
