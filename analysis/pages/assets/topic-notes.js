// The labels and top passages of the topics under the pyLDAvis view of topics.html.
// LDAvis records the selected topic with history.pushState / replaceState; the panel follows them.
(function () {
  "use strict";
  var notes = JSON.parse(document.getElementById("topic-notes").textContent);
  var panel = document.getElementById("topic-panel");

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function show(topic) {
    panel.replaceChildren();
    var found = notes.topics.filter(function (t) { return t.topic === topic; })[0];
    if (!found) {
      panel.appendChild(element("h2", "Topics"));
      panel.appendChild(element("p", "Click a circle on the map (or type a topic number) to read the topic's passages."));
      var list = element("ol", undefined, "labels");
      notes.topics.forEach(function (t) {
        list.appendChild(element("li", t.label + " (" + (100 * t.prevalence).toFixed(1) + "% of tokens)"));
      });
      panel.appendChild(list);
      return;
    }
    panel.appendChild(element("h2", "Topic " + found.topic + ": " + found.label));
    panel.appendChild(element("p", (100 * found.prevalence).toFixed(1) + "% of tokens. Its top passages, "
      + "the units where the topic's share is highest:", "note"));
    var passages = element("ol", undefined, "passages");
    found.passages.forEach(function (p) {
      var item = element("li");
      item.appendChild(element("span", p.doc_id + " \u00b7 " + p.role + " \u00b7 " + (100 * p.weight).toFixed(0) + "%", "where"));
      item.appendChild(element("blockquote", p.excerpt));
      passages.appendChild(item);
    });
    panel.appendChild(passages);
  }

  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function (state) {
      var result = original.apply(this, arguments);
      if (state && typeof state.topic !== "undefined") show(Number(state.topic));
      return result;
    };
  });
  show(0);
})();
