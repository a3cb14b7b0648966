// The one decisions form of the case page: mark it as changed on any edit of its controls
// (which sit beside each item, form="decisions-form") and ask before leaving with unsaved
// changes. Submitting the form (save, accept, preview) is not leaving. Saving while an item
// has edits but no decision chosen would drop those edits: the save is held, the page says
// which item, and its first choice gets the focus (nothing typed is lost).
(function () {
  var form = document.getElementById("decisions-form");
  if (!form) { return; }
  var note = document.getElementById("unsaved");
  var dirty = false;
  var leaving = false;
  function changed(event) {
    if (event.target.form !== form) { return; }
    dirty = true;
    if (note) { note.hidden = false; }
  }
  function undecided() {  // items whose text differs from what the page showed, with no decision chosen
    var held = {};
    Array.prototype.forEach.call(form.elements, function (control) {
      var match = /^(guideline|rationale)-(\d+)$/.exec(control.name || "");
      if (match && control.value !== control.defaultValue &&
          !document.querySelector('input[form="decisions-form"][name="decision-' + match[2] + '"]:checked')) {
        held[match[2]] = true;
      }
    });
    return Object.keys(held).map(Number).sort(function (a, b) { return a - b; });
  }
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var target = submitter && submitter.getAttribute("formtarget");
    if (target === "_blank") { return; }  // the preview sends what is typed and saves nothing
    var accepted = submitter && submitter.name === "accept" ? Number(submitter.value) : -1;
    var held = undecided().filter(function (n) { return n !== accepted; });
    if (held.length) {
      event.preventDefault();
      if (note) {
        note.hidden = false;
        note.textContent = "Not saved: item " + held.map(function (n) { return n + 1; }).join(", ") +
          " has your edits but no decision. Choose Upheld or Overturned there, then save.";
      }
      var first = document.querySelector('input[name="decision-' + held[0] + '"]');
      if (first) { first.focus(); }
      return;
    }
    leaving = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
