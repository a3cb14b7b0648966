// The one decisions form of the case page: mark it as changed on any edit of its controls
// (which sit beside each item, form="decisions-form") and ask before leaving with unsaved
// changes. Submitting the form (save, accept, preview) is not leaving.
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
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    var target = event.submitter && event.submitter.getAttribute("formtarget");
    if (target !== "_blank") { leaving = true; }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
