// explorer.html: topics, a concordance and a document reader over the data in #explorer-data.
// Corpus text only ever enters the page as textContent, never as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"];

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  function svg(tag, attributes) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attributes || {}).forEach(function (k) { node.setAttribute(k, attributes[k]); });
    return node;
  }
  function percent(x, digits) { return (100 * x).toFixed(digits === undefined ? 1 : digits) + "%"; }
  function topicColor(t) { return COLORS[(t - 1) % COLORS.length]; }
  // Python compares strings by code point; JavaScript's < by UTF-16 unit.
  function compareText(a, b) {
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d !== 0) return d;
    }
    return x.length - y.length;
  }
  function compareLists(a, b) {
    for (var i = 0; i < Math.min(a.length, b.length); i++) {
      var d = compareText(a[i], b[i]);
      if (d !== 0) return d;
    }
    return a.length - b.length;
  }

  document.getElementById("subtitle").textContent = data.subtitle;
  document.querySelectorAll("nav button").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll("nav button, .tab").forEach(function (n) { n.classList.remove("active"); });
      button.classList.add("active");
      document.getElementById(button.dataset.tab).classList.add("active");
    });
  });

  // ---- tokens, as analysis.tokens makes them -------------------------------------------------------------
  var quotes = data.tokens.quotes;
  var quoteChars = new RegExp("[" + Object.keys(quotes).map(escapeClass).join("") + "]", "gu");
  var fmt = "[" + Array.from(data.tokens.format).map(escapeClass).join("") + "]";
  var inside = "(?:" + fmt + "+|" + fmt + "*['-]" + fmt + "*)";
  var tokenPattern = new RegExp("[\\p{L}\\p{N}]+(?:" + inside + "[\\p{L}\\p{N}]+)*", "gu");
  var formatChars = new RegExp(fmt, "gu");
  function escapeClass(c) { return "\\u{" + c.codePointAt(0).toString(16) + "}"; }

  function normalizeToken(raw) {
    var t = raw.replace(formatChars, "").normalize("NFKC").toLowerCase();
    return t.length > 2 && t.slice(-2) === "'s" ? t.slice(0, -2) : t;
  }
  function tokenize(text) {  // [{form, start, end}] with offsets into text
    var straight = text.replace(quoteChars, function (c) { return quotes[c]; });
    var found = [], m;
    tokenPattern.lastIndex = 0;
    while ((m = tokenPattern.exec(straight)) !== null) {
      found.push({form: normalizeToken(m[0]), start: m.index, end: m.index + m[0].length});
    }
    return found;
  }
  function nameOf(form, lemmas) { return lemmas && Object.prototype.hasOwnProperty.call(data.lemmas, form) ? data.lemmas[form] : form; }

  var corpus = data.corpus;
  var documents = data.documents.map(function (d, i) {
    return {index: i, id: d[0], group: d[1], words: d[2], mixture: d[3], blocks: d[4].map(function (b, j) {
      return {number: j, role: corpus.roles ? corpus.roles[b[0]] : "", counted: b[1] === 1, expected: b[2], text: b[3]};
    })};
  });
  var tokenized = false, disagreements = 0;
  function ensureTokens() {
    if (tokenized) return;
    documents.forEach(function (d) {
      var position = 0;
      d.blocks.forEach(function (b) {
        b.tokens = tokenize(b.text);
        b.first = position;
        position += b.tokens.length;
        if (b.tokens.length !== b.expected) disagreements++;
      });
    });
    tokenized = true;
  }
  function collapse(s) { return s.trim().split(/\s+/).filter(Boolean).join(" "); }

  // Every match of query in the counted blocks: as analysis.concordance.kwic.
  function findMatches(query, options) {
    ensureTokens();
    var words = tokenize(query).map(function (t) { return nameOf(t.form, options.lemmas); });
    if (!words.length) return null;
    var rows = [];
    documents.forEach(function (d) {
      d.blocks.forEach(function (b) {
        if (!b.counted) return;
        var n = words.length, tokens = b.tokens;
        for (var i = 0; i + n <= tokens.length; i++) {
          var hit = true;
          for (var k = 0; k < n && hit; k++) hit = nameOf(tokens[i + k].form, options.lemmas) === words[k];
          if (!hit) continue;
          var reach = options.window, before = Math.max(0, i - reach), after = Math.min(tokens.length, i + n + reach);
          var matchStart = tokens[i].start, matchEnd = tokens[i + n - 1].end;
          rows.push({
            doc: d, doc_id: d.id, block: b.number, role: b.role, position: b.first + i,
            left: i > before ? collapse(b.text.slice(tokens[before].start, matchStart)) : "",
            match: collapse(b.text.slice(matchStart, matchEnd)),
            right: after > i + n ? collapse(b.text.slice(matchEnd, tokens[after - 1].end)) : "",
            leftKey: tokens.slice(before, i).map(function (t) { return t.form; }).reverse(),
            rightKey: tokens.slice(i + n, after).map(function (t) { return t.form; }),
          });
        }
      });
    });
    if (options.sort !== "doc") {
      var key = options.sort === "left" ? "leftKey" : "rightKey";
      rows.sort(function (a, b) {
        return compareLists(a[key], b[key]) || compareText(a.doc_id, b.doc_id) || a.position - b.position;
      });
    }
    return rows;
  }

  // ---- topics ----------------------------------------------------------------------------------------------
  var selected = 0;
  var topicsTab = document.getElementById("topics");
  function buildTopics() {
    var columns = el("div", undefined, "columns");
    var mapBox = el("div", undefined, "map");
    var size = 420, pad = 8;
    var maxRadius = size * 0.16;
    var radius = function (p) { return Math.max(6, Math.sqrt(p / maxPrevalence) * maxRadius); };
    var maxPrevalence = Math.max.apply(null, data.topics.map(function (t) { return t.prevalence; }));
    var xs = data.topics.map(function (t) { return t.x; }), ys = data.topics.map(function (t) { return t.y; });
    var span = Math.max(Math.max.apply(null, xs) - Math.min.apply(null, xs), Math.max.apply(null, ys) - Math.min.apply(null, ys)) || 1;
    var cx = (Math.max.apply(null, xs) + Math.min.apply(null, xs)) / 2, cy = (Math.max.apply(null, ys) + Math.min.apply(null, ys)) / 2;
    var scale = (size - 2 * (maxRadius + pad)) / span;
    var map = svg("svg", {width: size, height: size, viewBox: "0 0 " + size + " " + size, role: "img",
                          "aria-label": "Intertopic distance map"});
    map.appendChild(svg("line", {x1: 0, x2: size, y1: size / 2, y2: size / 2, stroke: "#ddd"}));
    map.appendChild(svg("line", {y1: 0, y2: size, x1: size / 2, x2: size / 2, stroke: "#ddd"}));
    var numbers = [];  // drawn after every circle, so that no circle hides a number
    data.topics.slice().sort(function (a, b) { return b.prevalence - a.prevalence; }).forEach(function (t) {
      var x = size / 2 + (t.x - cx) * scale, y = size / 2 - (t.y - cy) * scale;
      var circle = svg("circle", {cx: x, cy: y, r: radius(t.prevalence), id: "topic-circle-" + t.topic});
      var title = svg("title");
      title.textContent = "Topic " + t.topic + ": " + t.label + " (" + percent(t.prevalence) + ")";
      circle.appendChild(title);
      circle.addEventListener("click", function () { selectTopic(t.topic); });
      map.appendChild(circle);
      var number = svg("text", {x: x, y: y});
      number.textContent = String(t.topic);
      numbers.push(number);
    });
    numbers.forEach(function (n) { map.appendChild(n); });
    mapBox.appendChild(map);
    mapBox.appendChild(el("p", "Circles: topics placed by the distance between their term distributions (the "
      + "intertopic-map figure); area: share of tokens. Click one, or a label below.", "muted"));
    var list = el("ol", undefined, "labels");
    data.topics.forEach(function (t) {
      var item = el("li", t.label + " (" + percent(t.prevalence) + ")");
      item.id = "topic-label-" + t.topic;
      item.addEventListener("click", function () { selectTopic(t.topic); });
      list.appendChild(item);
    });
    mapBox.appendChild(list);
    columns.appendChild(mapBox);
    var detail = el("div", undefined, "detail");
    detail.id = "topic-detail";
    columns.appendChild(detail);
    topicsTab.appendChild(columns);
    selectTopic(data.topics[0].topic);
  }

  function topTerms(topic, lambda) {
    return topic.terms.map(function (row) {
      return {term: data.vocabulary.terms[row[0]], weight: row[1], lift: row[2], topicCount: row[3],
              count: data.vocabulary.counts[row[0]],
              relevance: Math.log(row[2]) * (1 - lambda) + lambda * Math.log(row[1])};
    }).sort(function (a, b) { return b.relevance - a.relevance || compareText(a.term, b.term); }).slice(0, data.n_terms);
  }

  function selectTopic(number) {
    selected = number;
    document.querySelectorAll(".map circle").forEach(function (c) {
      c.classList.toggle("selected", c.id === "topic-circle-" + number);
    });
    document.querySelectorAll(".labels li").forEach(function (li) {
      li.classList.toggle("selected", li.id === "topic-label-" + number);
    });
    var topic = data.topics.filter(function (t) { return t.topic === number; })[0];
    var detail = document.getElementById("topic-detail");
    detail.replaceChildren();
    detail.appendChild(el("h2", "Topic " + topic.topic + ": " + topic.label));
    detail.appendChild(el("p", percent(topic.prevalence) + " of tokens" + (topic.label !== topic.automatic
      ? "; automatic label: " + topic.automatic : "") + ".", "muted"));
    var controls = el("div", undefined, "controls");
    var sliderLabel = el("label", "Relevance \u03bb ");
    var slider = el("input");
    slider.type = "range"; slider.min = 0; slider.max = 1; slider.step = data.lambda_step; slider.id = "lambda";
    slider.value = data.lambda;
    var shown = el("span", Number(data.lambda).toFixed(2));
    sliderLabel.appendChild(slider);
    controls.appendChild(sliderLabel);
    controls.appendChild(shown);
    controls.appendChild(el("span", "1 ranks by probability in the topic, 0 by lift; figures use " + data.lambda + ".", "muted"));
    detail.appendChild(controls);
    var table = el("table", undefined, "terms");
    table.id = "topic-terms";
    detail.appendChild(table);
    function drawTerms() {
      var lambda = Number(slider.value);
      shown.textContent = lambda.toFixed(2);
      var rows = topTerms(topic, lambda);
      var most = Math.max.apply(null, rows.map(function (r) { return r.count; }));
      table.replaceChildren();
      rows.forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", r.term, "term"));
        var cell = el("td");
        var bar = el("div", undefined, "bar");
        var all = el("span", undefined, "all"), mine = el("span", undefined, "topic");
        all.style.width = (100 * r.count / most) + "%";
        mine.style.width = (100 * r.topicCount / most) + "%";
        bar.appendChild(all); bar.appendChild(mine);
        cell.appendChild(bar);
        cell.title = Math.round(r.topicCount) + " of " + Math.round(r.count) + " tokens in this topic";
        tr.appendChild(cell);
        table.appendChild(tr);
      });
    }
    slider.addEventListener("input", drawTerms);
    drawTerms();
    detail.appendChild(el("p", "Bars: the term's tokens in the corpus (light) and those the model gives to this topic (dark).", "muted"));
    detail.appendChild(el("h2", "Top passages"));
    var passages = el("ol", undefined, "passages");
    passages.id = "topic-passages";
    topic.passages.forEach(function (p) {
      var item = el("li");
      item.appendChild(el("span", p.doc_id + " \u00b7 " + p.role + " \u00b7 " + percent(p.weight, 0) + " this topic", "muted"));
      item.appendChild(el("blockquote", p.excerpt));
      passages.appendChild(item);
    });
    detail.appendChild(passages);
    if (data.groups) {
      detail.appendChild(el("h2", "Prevalence by " + data.groups.column));
      var prevalence = el("table", undefined, "prevalence");
      data.groups.rows.filter(function (r) { return r[1] === number; }).forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", r[0]));
        tr.appendChild(el("td", percent(r[2]) + " (" + percent(r[3]) + "\u2013" + percent(r[4]) + ")"));
        tr.appendChild(el("td", r[5] + " documents", "muted"));
        prevalence.appendChild(tr);
      });
      detail.appendChild(prevalence);
      detail.appendChild(el("p", "Mean topic share of the group's documents, with a 95% bootstrap interval.", "muted"));
    }
  }

  // ---- concordance and documents ---------------------------------------------------------------------------
  function tooLarge(tab, what) {
    tab.appendChild(el("p", "This corpus has " + corpus.n_characters.toLocaleString("en") + " characters in "
      + corpus.n_documents.toLocaleString("en") + " documents, above this page's limit of "
      + corpus.limit.toLocaleString("en") + " characters of text (about 3 million words). The " + what
      + " needs the text inside the page, so it is left out: use 'corpus-analysis kwic' or the notebook "
      + "widgets (analysis.explore) on this corpus.", "message"));
  }

  function select(options, id) {
    var s = el("select");
    s.id = id;
    options.forEach(function (o) { var option = el("option", o[1]); option.value = o[0]; s.appendChild(option); });
    return s;
  }
  function labelled(text, control) { var l = el("label", text + " "); l.appendChild(control); return l; }

  function csvCell(value) {
    var s = String(value);
    return /[",\n\r]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function buildConcordance() {
    var tab = document.getElementById("concordance");
    if (!corpus.included) { tooLarge(tab, "concordance"); return; }
    var controls = el("div", undefined, "controls");
    var query = el("input"); query.type = "search"; query.id = "kwic-query"; query.placeholder = "a word or a phrase";
    var windowInput = el("input"); windowInput.type = "number"; windowInput.min = 0; windowInput.max = 50; windowInput.value = data.window; windowInput.id = "kwic-window";
    windowInput.style.width = "4em";
    var sort = select([["doc", "document"], ["left", "left context"], ["right", "right context"]], "kwic-sort");
    var role = select([["", "every role"]].concat(corpus.roles.map(function (r) { return [r, r]; })), "kwic-role");
    var group = select([["", "every group"]].concat(corpus.groups.map(function (g, i) { return [String(i), g]; })), "kwic-group");
    var documentFilter = el("input"); documentFilter.type = "search"; documentFilter.id = "kwic-document"; documentFilter.placeholder = "document id contains";
    var lemmas = el("input"); lemmas.type = "checkbox"; lemmas.checked = true; lemmas.id = "kwic-lemmas";
    var exportButton = el("button", "Export CSV"); exportButton.id = "kwic-export";
    [labelled("Search", query), labelled("Window", windowInput), labelled("Sort by", sort), labelled("Role", role)]
      .forEach(function (c) { controls.appendChild(c); });
    if (corpus.groups.length) controls.appendChild(labelled(corpus.group_column, group));
    controls.appendChild(labelled("Document", documentFilter));
    controls.appendChild(labelled("Other forms of the word (lemmas)", lemmas));
    controls.appendChild(exportButton);
    tab.appendChild(controls);
    var count = el("p", "Type a word or a phrase: matching is on normalised tokens (case, curly quotes and "
      + "possessives do not matter), as the kwic command does.", "muted");
    count.id = "kwic-count";
    tab.appendChild(count);
    var check = el("p", undefined, "message");
    check.style.display = "none";
    tab.appendChild(check);
    var table = el("table", undefined, "lines");
    table.id = "kwic-lines";
    tab.appendChild(table);
    var current = [];
    var LIMIT = 2000;
    function run() {
      var rows = findMatches(query.value, {window: Math.max(0, Number(windowInput.value) || 0), sort: sort.value,
                                           lemmas: lemmas.checked});
      if (disagreements) {
        check.style.display = "";
        check.textContent = "This page splits " + disagreements + " blocks into words differently from the package: "
          + "its counts may differ from the kwic command's.";
      }
      table.replaceChildren();
      if (rows === null) { current = []; count.textContent = query.value ? "The query has no words to match." : ""; return; }
      current = rows.filter(function (r) {
        return (!role.value || r.role === role.value) && (!group.value || String(r.doc.group) === group.value)
          && (!documentFilter.value || r.doc_id.indexOf(documentFilter.value) !== -1);
      });
      var docs = new Set(current.map(function (r) { return r.doc_id; })).size;
      count.textContent = current.length.toLocaleString("en") + " matches in " + docs.toLocaleString("en")
        + " documents" + (current.length > LIMIT ? " (the first " + LIMIT + " shown; Export CSV has all)" : "");
      var head = el("tr");
      ["document", "role", "left", "match", "right"].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      current.slice(0, LIMIT).forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", r.doc_id));
        tr.appendChild(el("td", r.role, "muted"));
        tr.appendChild(el("td", r.left, "left"));
        tr.appendChild(el("td", r.match, "match"));
        tr.appendChild(el("td", r.right));
        table.appendChild(tr);
      });
    }
    [query, windowInput, documentFilter].forEach(function (c) { c.addEventListener("input", run); });
    [sort, role, group, lemmas].forEach(function (c) { c.addEventListener("change", run); });
    exportButton.addEventListener("click", function () {
      var lines = ["doc_id,block,role,position,left,match,right"].concat(current.map(function (r) {
        return [r.doc_id, r.block, r.role, r.position, r.left, r.match, r.right].map(csvCell).join(",");
      }));
      var link = el("a");
      link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], {type: "text/csv"}));
      link.download = "kwic.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  }

  function buildDocuments() {
    var tab = document.getElementById("documents");
    if (!corpus.included) { tooLarge(tab, "document reader"); return; }
    var controls = el("div", undefined, "controls");
    var filter = el("input"); filter.type = "search"; filter.id = "document-filter"; filter.placeholder = "document id contains";
    var highlight = el("input"); highlight.type = "search"; highlight.id = "document-highlight"; highlight.placeholder = "a word or a phrase";
    controls.appendChild(labelled("Find a document", filter));
    controls.appendChild(labelled("Highlight", highlight));
    tab.appendChild(controls);
    var columns = el("div", undefined, "columns");
    var listBox = el("div", undefined, "doclist");
    var reader = el("div", undefined, "reader");
    reader.id = "reader";
    columns.appendChild(listBox); columns.appendChild(reader);
    tab.appendChild(columns);
    var order = {key: "id", descending: false};
    var open = null;
    function topTopic(d) {
      if (!d.mixture) return 0;
      return d.mixture.indexOf(Math.max.apply(null, d.mixture)) + 1;
    }
    function drawList() {
      var table = el("table");
      table.id = "document-list";
      var head = el("tr");
      [["id", "document"], ["words", "words"], ["topic", "main topic"]].forEach(function (h) {
        var th = el("th", h[1] + (order.key === h[0] ? (order.descending ? " \u25bc" : " \u25b2") : ""));
        th.addEventListener("click", function () {
          order = {key: h[0], descending: order.key === h[0] ? !order.descending : h[0] !== "id"};
          drawList();
        });
        head.appendChild(th);
      });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var body = el("tbody");
      var shown = documents.filter(function (d) { return !filter.value || d.id.indexOf(filter.value) !== -1; });
      var value = {id: function (d) { return d.id; }, words: function (d) { return d.words; }, topic: topTopic}[order.key];
      shown.sort(function (a, b) {
        var x = value(a), y = value(b);
        var d = typeof x === "string" ? compareText(x, y) : x - y;
        return (order.descending ? -d : d) || a.index - b.index;
      });
      shown.slice(0, 5000).forEach(function (d) {
        var tr = el("tr");
        if (open === d) tr.className = "selected";
        tr.appendChild(el("td", d.id));
        tr.appendChild(el("td", d.words.toLocaleString("en")));
        tr.appendChild(el("td", topTopic(d) ? String(topTopic(d)) : "\u2013"));
        tr.addEventListener("click", function () { open = d; drawList(); drawReader(); });
        body.appendChild(tr);
      });
      table.appendChild(body);
      listBox.replaceChildren(table);
    }
    function marked(text, ranges) {  // text with <mark> around ranges, built as nodes
      var parts = document.createDocumentFragment(), at = 0;
      ranges.forEach(function (r) {
        parts.appendChild(document.createTextNode(text.slice(at, r[0])));
        parts.appendChild(el("mark", text.slice(r[0], r[1])));
        at = r[1];
      });
      parts.appendChild(document.createTextNode(text.slice(at)));
      return parts;
    }
    function drawReader() {
      reader.replaceChildren();
      if (!open) { reader.appendChild(el("p", "Pick a document on the left.", "muted")); return; }
      var d = open;
      reader.appendChild(el("h2", d.id));
      reader.appendChild(el("p", d.words.toLocaleString("en") + " words" + (d.group >= 0
        ? " \u00b7 " + corpus.group_column + ": " + corpus.groups[d.group] : ""), "muted"));
      if (d.mixture) {
        var bar = el("div", undefined, "mixture");
        var parts = d.mixture.map(function (share, i) { return {topic: i + 1, share: share}; })
          .sort(function (a, b) { return b.share - a.share; });
        parts.forEach(function (p) {
          var span = el("span");
          span.style.width = percent(p.share, 3);
          span.style.background = topicColor(p.topic);
          span.title = "Topic " + p.topic + ": " + data.topics[p.topic - 1].label + " " + percent(p.share);
          bar.appendChild(span);
        });
        reader.appendChild(bar);
        reader.appendChild(el("p", parts.slice(0, 3).filter(function (p) { return p.share >= 0.05; }).map(function (p) {
          return "Topic " + p.topic + " (" + data.topics[p.topic - 1].label + ") " + percent(p.share, 0);
        }).join(" \u00b7 "), "muted"));
      }
      var found = highlight.value ? findMatches(highlight.value, {window: 0, sort: "doc", lemmas: true}) || [] : [];
      var ranges = {};
      found.filter(function (r) { return r.doc === d; }).forEach(function (r) {
        var b = d.blocks[r.block], first = r.position - b.first;
        (ranges[r.block] = ranges[r.block] || []).push([b.tokens[first].start,
          b.tokens[first + tokenize(highlight.value).length - 1].end]);
      });
      d.blocks.forEach(function (b) {
        var p = el("p", undefined, "block" + (b.counted ? "" : " left-out"));
        p.appendChild(el("span", b.role, "role"));
        p.appendChild(marked(b.text, ranges[b.number] || []));
        reader.appendChild(p);
      });
    }
    filter.addEventListener("input", drawList);
    highlight.addEventListener("input", drawReader);
    drawList();
    drawReader();
  }

  buildTopics();
  buildConcordance();
  buildDocuments();
})();
