/* neuroanim interactive twin: replays the runs recorded at build time (the JSON
   above); nothing is trained or formatted here. Every number shown is a string
   Python wrote, and carries data-field and data-value (its full precision). */
(function () {
  "use strict";
  var M = JSON.parse(document.getElementById("model").textContent);
  var W = M.words;
  var root = document.getElementById("widget");
  var css = getComputedStyle(document.documentElement);
  var reduced = window.matchMedia ?
    window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };
  var uid = 0;

  function color(name) { return css.getPropertyValue("--" + name).trim(); }
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
  }

  // ------------------------------------------------------------- elements
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(c); } });
    return e;
  }
  function labelled(text, input, extra, grow) {
    input.id = input.id || "c" + (++uid);
    return el("div", { "class": "control" + (grow ? " grow" : "") },
      [el("label", { "for": input.id, text: text }), input].concat(extra || []));
  }
  function range(max, label) {
    return el("input", { type: "range", min: "0", max: String(max), step: "1", value: "0",
      "aria-label": label });
  }
  function choice(options, value) {
    var s = el("select");
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if (String(o[0]) === String(value)) { opt.selected = true; }
      s.appendChild(opt);
    });
    return s;
  }
  function button(text, cls) {
    return el("button", { type: "button", "class": cls || "", text: text });
  }
  function show(node, text, value) {
    node.textContent = text;
    node.setAttribute("data-value", String(value));
  }
  function readout(list, field, name) {
    var dd = el("dd", { "data-field": field });
    list.appendChild(el("dt", { text: name }));
    list.appendChild(dd);
    return dd;
  }
  function speedControl(player) {
    var s = choice([[0.5, "½×"], [1, "1×"], [2, "2×"], [4, "4×"], [16, "16×"]], 1);
    s.addEventListener("change", function () { player.speed = parseFloat(s.value); });
    return labelled(W.speed, s);
  }
  function repro(command) {
    var p = el("p", { "class": "repro" },
      [document.createTextNode(W.reproduce + " "), el("code", { text: command })]);
    return p;
  }

  // --------------------------------------------------------------- canvas
  function Plot(parent, label) {
    this.box = el("div", { "class": "plot" });
    this.canvas = el("canvas", { role: "img", "aria-label": label });
    this.box.appendChild(this.canvas);
    parent.appendChild(this.box);
  }
  Plot.prototype.begin = function () {
    var r = window.devicePixelRatio || 1, c = this.canvas;
    var w = Math.max(1, c.clientWidth), h = Math.max(1, c.clientHeight);
    if (c.width !== Math.round(w * r) || c.height !== Math.round(h * r)) {
      c.width = Math.round(w * r); c.height = Math.round(h * r);
    }
    var g = c.getContext("2d");
    g.setTransform(r, 0, 0, r, 0, 0);
    g.clearRect(0, 0, w, h);
    this.w = w; this.h = h; this.em = parseFloat(getComputedStyle(c).fontSize) || 14;
    g.font = Math.round(this.em * 0.8) + "px " + color("font");
    g.lineCap = "round"; g.lineJoin = "round";
    return g;
  };

  function text(g, s, x, y, fill, align, base) {
    g.fillStyle = fill; g.textAlign = align || "left"; g.textBaseline = base || "alphabetic";
    g.fillText(s, x, y);
  }
  function line(g, pts, stroke, width, dash) {
    g.strokeStyle = stroke; g.lineWidth = width; g.setLineDash(dash || []);
    g.beginPath();
    pts.forEach(function (p, i) { if (i) { g.lineTo(p[0], p[1]); } else { g.moveTo(p[0], p[1]); } });
    g.stroke(); g.setLineDash([]);
  }
  function heatColour(p) {  // the theme's heat palette, blended 0 -> 0.5 -> 1
    var a = HEAT[0], b = HEAT[1], t = p * 2;
    if (p > 0.5) { a = HEAT[1]; b = HEAT[2]; t = p * 2 - 1; }
    return [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * t); });
  }
  var HEAT = [rgb(color("heat-0")), rgb(color("heat-1")), rgb(color("heat-2"))];
  var RES = 48;
  var heatImage = document.createElement("canvas");
  heatImage.width = RES; heatImage.height = RES;
  function paintHeat(output) {  // output(x1, x2) of the recorded state at a cell centre
    var g = heatImage.getContext("2d"), img = g.createImageData(RES, RES);
    var lo = M.lo, c = (M.hi - M.lo) / RES;
    for (var i = 0; i < RES; i++) {
      for (var j = 0; j < RES; j++) {
        var col = heatColour(output(lo + c * (j + 0.5), M.hi - c * (i + 0.5)));
        var k = 4 * (i * RES + j);
        img.data[k] = col[0]; img.data[k + 1] = col[1]; img.data[k + 2] = col[2];
        img.data[k + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
    return heatImage;
  }
  function sigmoid(z) { return 1 / (1 + Math.exp(-z)); }

  // A square of the inputs [lo, hi]^2 inside a plot, with ticks and names.
  function square(plot, g) {
    var em = plot.em, pad = 2.2 * em;
    var side = Math.max(10, Math.min(plot.w - pad - em, plot.h - pad - em));
    var x0 = pad + (plot.w - pad - em - side) / 2, y0 = em * 0.6;
    var s = {
      x0: x0, y0: y0, side: side,
      X: function (v) { return x0 + (v - M.lo) / (M.hi - M.lo) * side; },
      Y: function (v) { return y0 + (M.hi - v) / (M.hi - M.lo) * side; }
    };
    return s;
  }
  function squareFrame(g, s) {
    g.strokeStyle = color("axis"); g.lineWidth = 1.5;
    g.strokeRect(s.x0, s.y0, s.side, s.side);
    [0, 1].forEach(function (v) {
      text(g, String(v), s.X(v), s.y0 + s.side + 0.9 * 14, color("axis"), "center", "top");
      text(g, String(v), s.x0 - 6, s.Y(v), color("axis"), "right", "middle");
    });
    text(g, W.x1, s.x0 + s.side, s.y0 + s.side + 14, color("muted"), "right", "top");
    text(g, W.x2, s.x0 - 6, s.y0 + 2, color("muted"), "right", "top");
  }
  function marker(g, x, y, target, r) {
    g.lineWidth = 7; g.strokeStyle = color("background");
    g.beginPath();
    if (target >= 0.5) { g.rect(x - r * 0.88, y - r * 0.88, r * 1.76, r * 1.76); } else { g.arc(x, y, r, 0, 2 * Math.PI); }
    g.stroke();
    g.fillStyle = color(target >= 0.5 ? "target-one" : "target-zero");
    g.fill(); g.lineWidth = 2; g.strokeStyle = color("text"); g.stroke();
  }
  function points(g, s, inputs, targets) {
    for (var n = 0; n < 4; n++) {
      marker(g, s.X(inputs[2 * n]), s.Y(inputs[2 * n + 1]), targets[n], Math.max(5, s.side / 28));
    }
  }

  // The loss so far against log10(1 + epoch), as the videos chart it.
  function lossChart(plot, epochs, loss, upto, yTicks, xTicks) {
    var g = plot.begin(), em = plot.em;
    var left = 3 * em, right = plot.w - em, top = em * 1.4, bottom = plot.h - 2.2 * em;
    var lx = function (e) { return Math.log(1 + e) / Math.log(1 + M.epochs); };
    var ytop = yTicks[yTicks.length - 1][0] || 1;
    var X = function (e) { return left + lx(e) * (right - left); };
    var Y = function (v) { return bottom - Math.min(v, ytop) / ytop * (bottom - top); };
    line(g, [[left, top], [left, bottom], [right, bottom]], color("axis"), 1.5);
    yTicks.forEach(function (t) {
      text(g, t[1], left - 5, Y(t[0]), color("axis"), "right", "middle");
    });
    xTicks.forEach(function (t) {
      text(g, t[1], X(t[0]), bottom + 4, color("axis"), "center", "top");
    });
    text(g, W.epoch, right, bottom + 1.1 * em, color("muted"), "right", "top");
    text(g, W.loss, left, top - 0.4 * em, color("muted"), "left", "alphabetic");
    var pts = [];
    for (var i = 0; i <= upto; i++) { pts.push([X(epochs[i]), Y(loss[i])]); }
    line(g, pts, color("curve"), 3);
    var p = pts[pts.length - 1];
    g.fillStyle = color("accent"); g.beginPath(); g.arc(p[0], p[1], 4, 0, 2 * Math.PI); g.fill();
  }

  // --------------------------------------------------------------- player
  // Plays positions 0..max of the scrubber; `seconds` per position at 1x.
  function Player(render) {
    this.render = render; this.pos = 0; this.frac = 0; this.playing = false;
    this.speed = 1; this.max = 0; this.seconds = 0.5; this.last = null;
    this.button = null;
  }
  Player.prototype.seek = function (pos) {
    this.pos = Math.max(0, Math.min(this.max, pos | 0)); this.frac = 0;
    this.render();
  };
  Player.prototype.play = function () {
    if (this.pos >= this.max) { this.pos = 0; this.frac = 0; }
    this.playing = true; this.last = null; this.sync();
    var self = this;
    window.requestAnimationFrame(function (t) { self.tick(t); });
  };
  Player.prototype.pause = function () { this.playing = false; this.frac = 0; this.sync(); this.render(); };
  Player.prototype.toggle = function () { if (this.playing) { this.pause(); } else { this.play(); } };
  Player.prototype.sync = function () {
    if (this.button) { this.button.textContent = this.playing ? W.pause : W.play; }
  };
  Player.prototype.tick = function (t) {
    if (!this.playing) { return; }
    if (this.last !== null) {
      this.frac += (t - this.last) / 1000 * this.speed / this.seconds;
      while (this.frac >= 1 && this.pos < this.max) { this.frac -= 1; this.pos += 1; }
    }
    this.last = t;
    if (this.pos >= this.max) { this.pos = this.max; this.frac = 0; this.playing = false; this.sync(); }
    this.render();
    var self = this;
    if (this.playing) { window.requestAnimationFrame(function (t2) { self.tick(t2); }); }
  };
  Player.prototype.tween = function () { return reduced.matches ? 0 : this.frac; };

  function transport(player, startText, extra) {
    var start = button(startText, "primary");
    var pause = button(W.play);
    var reset = button(W.reset);
    player.button = pause;
    start.addEventListener("click", function () { player.seek(0); player.play(); });
    pause.addEventListener("click", function () { player.toggle(); });
    reset.addEventListener("click", function () { player.playing = false; player.sync(); player.seek(0); });
    return el("div", { "class": "control" }, [start, pause, reset].concat(extra || []));
  }
  function scrubber(player, name) {
    var r = range(0, name);
    r.removeAttribute("aria-label");
    r.addEventListener("input", function () {
      player.playing = false; player.sync(); player.seek(parseInt(r.value, 10));
    });
    return r;
  }
  function place(stage, side, controls) {
    root.appendChild(stage); root.appendChild(controls);
    new ResizeObserver(function () { current(); }).observe(stage);
    return side;
  }
  var current = function () {};

  // ============================================================ Drop the Ball
  function descent() {
    var runs = M.runs, win = M.window, ri = M.start;
    var stage = el("div", { "class": "stage" });
    var plots = el("div", { "class": "plots" });
    var plot = new Plot(plots, W.plot);
    var side = el("div", { "class": "side" });
    stage.appendChild(plots); stage.appendChild(side);
    var list = el("dl", { "class": "readouts" });
    var fStep = readout(list, "step", W.step);
    var fW = readout(list, "w", W.w);
    var fLoss = readout(list, "loss", W.loss);
    var preset = el("p", { "class": "verdict" });
    var badge = el("p", { "class": "badge", hidden: "" });
    var verdict = el("p", { "class": "verdict", "aria-live": "polite" });
    var code = repro("");
    side.appendChild(list); side.appendChild(preset); side.appendChild(badge);
    side.appendChild(verdict); side.appendChild(code);

    var player = new Player(draw);
    player.seconds = 0.45;
    var lr = range(runs.length - 1, W.lr);
    lr.removeAttribute("aria-label");
    var lrOut = el("output", { "data-field": "lr", "for": "" });
    var step = scrubber(player, W.step);
    var controls = el("div", { "class": "controls" }, [
      transport(player, W.drop),
      labelled(W.lr, lr, [lrOut], true),
      labelled(W.step, step, [], true),
      speedControl(player)
    ]);
    lr.value = String(ri);
    lrOut.setAttribute("for", lr.id);
    lr.addEventListener("input", function () { select(parseInt(lr.value, 10)); });
    place(stage, side, controls);

    function select(i) {
      ri = i; var r = runs[ri];
      player.playing = false; player.sync();
      player.max = r.steps;
      step.max = String(r.steps);
      show(lrOut, r.lr_text, r.lr);
      lr.setAttribute("aria-valuetext", r.lr_text + (r.preset ? " (" + W.preset + " " + r.preset + ")" : ""));
      preset.textContent = r.preset ? W.preset + ": " + r.preset : "";
      code.lastChild.textContent = r.command;
      root.setAttribute("data-run", String(ri));
      player.seek(Math.min(player.pos, r.steps));
    }

    function curveLoss(w) {  // the sampled curve, for the ball between two steps
      var cw = M.curve.w, cl = M.curve.loss, n = cw.length - 1;
      var t = (w - cw[0]) / (cw[n] - cw[0]) * n, i = Math.max(0, Math.min(n - 1, Math.floor(t)));
      return cl[i] + (cl[i + 1] - cl[i]) * (t - i);
    }

    function draw() {
      var r = runs[ri], k = player.pos, f = player.tween();
      root.setAttribute("data-step", String(k));
      step.value = String(k);
      step.setAttribute("aria-valuetext", W.step + " " + k + " " + W.of + " " + r.steps);
      fStep.textContent = String(k);
      fStep.setAttribute("data-value", String(k));
      fStep.appendChild(el("span", { "class": "total", text: " / " + r.steps }));
      show(fW, r.w_text[k], r.w[k]);
      show(fLoss, r.loss_text[k], r.loss[k]);
      var end = k >= r.steps;
      verdict.textContent = end ? r.verdict : "";
      verdict.style.color = color(r.status === "diverged" ? "bad" : "text");

      var g = plot.begin(), em = plot.em;
      var left = 3.2 * em, right = plot.w - 0.8 * em, top = 1.2 * em, bottom = plot.h - 2.4 * em;
      var X = function (w) { return left + (w - win[0]) / (win[1] - win[0]) * (right - left); };
      var Y = function (v) { return bottom - (v - win[2]) / (win[3] - win[2]) * (bottom - top); };
      line(g, [[left, top], [left, bottom], [right, bottom]], color("axis"), 1.5);
      M.ticks.w.forEach(function (t) { text(g, t[1], X(t[0]), bottom + 4, color("axis"), "center", "top"); });
      M.ticks.loss.forEach(function (t) { text(g, t[1], left - 5, Y(t[0]), color("axis"), "right", "middle"); });
      text(g, W.w, right, bottom + 1.2 * em, color("muted"), "right", "top");
      text(g, W.loss, left, top - 0.35 * em, color("muted"), "left", "alphabetic");
      g.save(); g.beginPath(); g.rect(left, top - 2, right - left, bottom - top + 2); g.clip();
      var wm = M.w_min, lowY = Y(curveLoss(wm));
      line(g, [[X(wm), lowY], [X(wm), top + 1.2 * em]], color("minimum"), 2, [5, 5]);
      text(g, W.lowest, X(wm) + 5, top + 1.1 * em, color("minimum"), "left", "alphabetic");
      line(g, M.curve.w.map(function (w, i) { return [X(w), Y(M.curve.loss[i])]; }), color("curve"), 3);
      // the trail: every step so far
      var trail = [];
      for (var i = 0; i <= k; i++) { trail.push([X(r.w[i]), Y(r.loss[i])]); }
      g.globalAlpha = 0.8;
      line(g, trail, color("ball"), 1.5, [2, 4]);
      trail.forEach(function (p) { g.fillStyle = color("ball"); g.beginPath(); g.arc(p[0], p[1], 2.5, 0, 2 * Math.PI); g.fill(); });
      g.globalAlpha = 1;
      // the ball: at step k, or on its way to k + 1 (held 40% of a step first)
      var m = f <= 0.4 ? 0 : (1 - Math.cos(Math.PI * (f - 0.4) / 0.6)) / 2;
      var w = k < r.steps ? r.w[k] + (r.w[k + 1] - r.w[k]) * m : r.w[k];
      var v = m > 0 ? curveLoss(w) : r.loss[k];
      var bx = X(w), by = Y(v), out = bx < left || bx > right || by < top || by > bottom;
      bx = Math.max(left, Math.min(right, bx)); by = Math.max(top, Math.min(bottom, by));
      if (m === 0 && !out) {  // the slope at the ball and the way downhill
        var sx = (right - left) / (win[1] - win[0]), sy = (bottom - top) / (win[3] - win[2]);
        var dx = 1, dy = -r.grad[k] * sy / sx, n = Math.sqrt(dx * dx + dy * dy), L = 2.2 * em;
        line(g, [[bx - dx / n * L, by - dy / n * L], [bx + dx / n * L, by + dy / n * L]], color("text"), 2.5);
        var dir = r.grad[k] > 0 ? -1 : 1;
        if (Math.abs(r.grad[k]) > 1e-3) {
          var ax = bx + dir * 1.8 * em;
          line(g, [[bx, by - 1.1 * em], [ax, by - 1.1 * em]], color("accent"), 3);
          line(g, [[ax - dir * 6, by - 1.1 * em - 5], [ax, by - 1.1 * em], [ax - dir * 6, by - 1.1 * em + 5]], color("accent"), 3);
        }
      }
      g.restore();
      g.fillStyle = color("ball"); g.strokeStyle = color("background"); g.lineWidth = 2;
      g.beginPath(); g.arc(bx, by, Math.max(6, em * 0.55), 0, 2 * Math.PI); g.fill(); g.stroke();
      var bad = r.status === "diverged" && end;
      badge.hidden = !(bad || out);
      badge.className = "badge" + (bad ? "" : " off");
      badge.textContent = bad ? W.diverged : W.off;
    }
    current = draw;
    select(ri);
  }

  // ========================================================== AND-gate trainer
  function neuron() {
    var runs = M.runs, ri = M.start;
    var stage = el("div", { "class": "stage" });
    var plots = el("div", { "class": "plots two" });
    var heat = new Plot(plots, W.heat);
    var chart = new Plot(plots, W.chart);
    var side = el("div", { "class": "side" });
    stage.appendChild(plots); stage.appendChild(side);
    var list = el("dl", { "class": "readouts" });
    var fEpoch = readout(list, "epoch", W.epoch);
    var fLoss = readout(list, "loss", W.loss);
    var fW1 = readout(list, "w1", W.w1);
    var fW2 = readout(list, "w2", W.w2);
    var fB = readout(list, "b", W.b);
    var fLr = readout(list, "lr", W.lr);
    var fGate = readout(list, "gate", W.gate);
    var note = el("p", { "class": "verdict" });
    var ending = el("div", { "class": "ending", "aria-live": "polite" });
    var code = repro("");
    side.appendChild(list); side.appendChild(note); side.appendChild(ending); side.appendChild(code);

    var player = new Player(draw);
    var lrs = [], gates = M.gates.filter(function (g) { return runs.some(function (r) { return r.gate === g; }); });
    runs.forEach(function (r) { if (lrs.indexOf(r.lr) < 0) { lrs.push(r.lr); } });
    lrs.sort(function (a, b) { return a - b; });
    var lrSel = choice(lrs.map(function (v) {
      return [v, runs.filter(function (r) { return r.lr === v; })[0].lr_text];
    }), runs[ri].lr);
    var gateSel = choice(gates.map(function (g) { return [g, g]; }), runs[ri].gate);
    var epoch = scrubber(player, W.epoch);
    var controls = el("div", { "class": "controls" }, [
      transport(player, W.train),
      labelled(W.epoch, epoch, [], true),
      labelled(W.lr, lrSel), labelled(W.gate, gateSel), speedControl(player)
    ]);
    function pick() {
      for (var i = 0; i < runs.length; i++) {
        if (String(runs[i].lr) === lrSel.value && runs[i].gate === gateSel.value) { return i; }
      }
      return ri;
    }
    lrSel.addEventListener("change", function () { select(pick()); });
    gateSel.addEventListener("change", function () { select(pick()); });
    place(stage, side, controls);

    function select(i) {
      ri = i; var r = runs[ri];
      player.playing = false; player.sync();
      player.max = r.epoch.length - 1;
      player.seconds = 10 / Math.max(1, player.max);
      epoch.max = String(player.max);
      show(fLr, r.lr_text, r.lr); show(fGate, r.gate, r.gate);
      code.lastChild.textContent = r.command;
      root.setAttribute("data-run", String(ri));
      player.seek(Math.min(player.pos, player.max));
    }

    function draw() {
      var r = runs[ri], k = player.pos, e = r.epoch[k];
      root.setAttribute("data-step", String(k));
      epoch.value = String(k);
      epoch.setAttribute("aria-valuetext", W.epoch + " " + r.epoch_text[k] + " " + W.of + " " + M.epochs);
      fEpoch.textContent = r.epoch_text[k];
      fEpoch.setAttribute("data-value", String(e));
      fEpoch.appendChild(el("span", { "class": "total", text: " / " + M.epochs }));
      show(fLoss, r.loss_text[k], r.loss[k]);
      show(fW1, r.w1_text[k], r.w1[k]); show(fW2, r.w2_text[k], r.w2[k]); show(fB, r.b_text[k], r.b[k]);
      var seg = r.boundary[k];
      note.textContent = typeof seg === "string" ? W[seg] : "";
      var end = k >= player.max;
      ending.textContent = "";
      if (end) {
        ending.appendChild(el("p", { "class": "head " + (r.learned ? "good" : "bad"), text: r.head }));
        ending.appendChild(el("ul", {}, r.lines.map(function (t) { return el("li", { text: t }); })));
      }
      var g = heat.begin(), s = square(heat, g);
      var w1 = r.w1[k], w2 = r.w2[k], b = r.b[k];
      g.imageSmoothingEnabled = true;
      g.drawImage(paintHeat(function (x1, x2) { return sigmoid(w1 * x1 + w2 * x2 + b); }), s.x0, s.y0, s.side, s.side);
      squareFrame(g, s);
      if (typeof seg !== "string") {
        line(g, [[s.X(seg[0]), s.Y(seg[1])], [s.X(seg[2]), s.Y(seg[3])]], color("text"), 3.5);
      }
      points(g, s, r.inputs, r.targets);
      lossChart(chart, r.epoch, r.loss, k, r.loss_ticks, M.epoch_ticks);
    }
    current = draw;
    select(ri);
  }

  // ============================================================ two layers
  function mlp() {
    var H = M.hidden;
    var stage = el("div", { "class": "stage" });
    var plots = el("div", { "class": "plots two rows" });
    var diagram = new Plot(plots, W.diagram);
    var heat = new Plot(plots, W.heat);
    var chart = new Plot(plots, W.chart);
    chart.box.className = "plot wide";
    var side = el("div", { "class": "side" });
    stage.appendChild(plots); stage.appendChild(side);
    var list = el("dl", { "class": "readouts" });
    var fEpoch = readout(list, "epoch", W.epoch);
    var fLoss = readout(list, "loss", W.loss);
    var fLr = readout(list, "lr", W.lr);
    var table = el("table", { "class": "outputs" });
    table.appendChild(el("tr", {}, [W.input, W.target, W.output].map(function (t) {
      return el("th", { scope: "col", text: t });
    })));
    var outs = [];
    for (var n = 0; n < 4; n++) {
      var td = el("td", { "data-field": "output-" + n });
      outs.push(td);
      table.appendChild(el("tr", {}, [el("th", { scope: "row", text: M.input_names[n] }),
        el("td", { text: String(M.targets[n]) }), td]));
    }
    side.appendChild(list); side.appendChild(table);
    var ending = el("div", { "class": "ending", "aria-live": "polite" });
    side.appendChild(ending); side.appendChild(repro(M.command));

    var player = new Player(draw);
    player.max = M.epoch.length - 1;
    player.seconds = 10 / Math.max(1, player.max);
    var epoch = scrubber(player, W.epoch);
    epoch.max = String(player.max);
    var controls = el("div", { "class": "controls" }, [
      transport(player, W.train), labelled(W.epoch, epoch, [], true), speedControl(player)
    ]);
    place(stage, side, controls);
    show(fLr, M.lr_text, M.lr);
    root.setAttribute("data-run", "0");

    function draw() {
      var k = player.pos, e = M.epoch[k];
      root.setAttribute("data-step", String(k));
      epoch.value = String(k);
      epoch.setAttribute("aria-valuetext", W.epoch + " " + M.epoch_text[k] + " " + W.of + " " + M.epochs);
      fEpoch.textContent = M.epoch_text[k];
      fEpoch.setAttribute("data-value", String(e));
      fEpoch.appendChild(el("span", { "class": "total", text: " / " + M.epochs }));
      show(fLoss, M.loss_text[k], M.loss[k]);
      for (var n = 0; n < 4; n++) { show(outs[n], M.outputs_text[k][n], M.outputs[k][n]); }
      ending.textContent = "";
      if (k >= player.max) {
        ending.appendChild(el("p", { "class": "head " + (M.learned ? "good" : "bad"), text: M.head }));
        ending.appendChild(el("ul", {}, M.lines.map(function (t) { return el("li", { text: t }); })));
      }
      var w1 = M.w1[k], b1 = M.b1[k], w2 = M.w2[k], b2 = M.b2[k];
      // the network: edges coloured by sign, thicker when larger
      var g = diagram.begin(), em = diagram.em, dw = diagram.w, dh = diagram.h;
      var col = [dw * 0.14, dw * 0.5, dw * 0.86];
      var ys = function (count, i) { return dh * (i + 1) / (count + 1); };
      var edge = function (a, b, w) {
        line(g, [a, b], color(w > 0 ? "heat-2" : "heat-0"), Math.max(1, Math.min(9, Math.abs(w) * 1.3)));
      };
      for (var j = 0; j < H; j++) {
        var hp = [col[1], ys(H, j)];
        edge([col[0], ys(2, 0)], hp, w1[2 * j]); edge([col[0], ys(2, 1)], hp, w1[2 * j + 1]);
        edge(hp, [col[2], ys(1, 0)], w2[j]);
      }
      var node = function (p, name) {
        g.fillStyle = color("panel"); g.strokeStyle = color("text"); g.lineWidth = 2;
        g.beginPath(); g.arc(p[0], p[1], Math.max(9, em * 0.95), 0, 2 * Math.PI); g.fill(); g.stroke();
        text(g, name, p[0], p[1], color("text"), "center", "middle");
      };
      node([col[0], ys(2, 0)], W.x1); node([col[0], ys(2, 1)], W.x2);
      for (j = 0; j < H; j++) { node([col[1], ys(H, j)], "h" + (j + 1)); }
      node([col[2], ys(1, 0)], W.out);
      // the output over the square, with each hidden neuron's line
      g = heat.begin();
      var s = square(heat, g);
      g.drawImage(paintHeat(function (x1, x2) {
        var z = b2;
        for (var q = 0; q < H; q++) { z += w2[q] * sigmoid(w1[2 * q] * x1 + w1[2 * q + 1] * x2 + b1[q]); }
        return sigmoid(z);
      }), s.x0, s.y0, s.side, s.side);
      squareFrame(g, s);
      M.hidden_lines[k].forEach(function (seg, q) {
        if (typeof seg !== "string") {
          line(g, [[s.X(seg[0]), s.Y(seg[1])], [s.X(seg[2]), s.Y(seg[3])]], color("text"), 2, [7, 5]);
          text(g, "h" + (q + 1), s.X(seg[2]), s.Y(seg[3]), color("text"), "center", "bottom");
        }
      });
      points(g, s, M.inputs, M.targets);
      lossChart(chart, M.epoch, M.loss, k, M.loss_ticks, M.epoch_ticks);
    }
    current = draw;
    player.seek(0);
  }

  var sub = root.querySelector(".title");
  ({ descent: descent, neuron: neuron, mlp: mlp })[M.kind]();
  root.setAttribute("data-ready", "true");
  if (sub) { sub.id = "widget-title"; root.setAttribute("aria-labelledby", "widget-title"); }
}());
