// neuroanim serve: keep the open preview page in step with the build.
// Server-sent events carry the state of every figure (queued, building, done,
// failed, cancelled) and a version per figure; a figure whose version moved is
// fetched again and swapped in place, the scroll position kept. No dependency.
(function () {
  "use strict";
  const known = {};  // figure -> version shown
  const live = (window.__neuroanim = { state: null, updates: 0, connected: false });
  const LABEL = { queued: "queued", building: "building…", done: "up to date",
                  failed: "failed", cancelled: "cancelled: a newer edit" };

  function section(name) {
    for (const s of document.querySelectorAll("section.figure[data-figure]")) {
      if (s.dataset.figure === name) return s;
    }
    return null;
  }

  function badge(sec, fig) {
    let b = sec.querySelector(".live-status");
    if (!b) {
      b = document.createElement("span");
      b.className = "live-status";
      b.setAttribute("role", "status");
      const h2 = sec.querySelector("h2");
      (h2 || sec).appendChild(b);
    }
    b.dataset.state = fig.state;
    b.textContent = LABEL[fig.state] || fig.state;
    let err = sec.querySelector(".live-error");
    if (fig.state === "failed" && fig.error) {
      if (!err) {
        err = document.createElement("pre");
        err.className = "live-error";
        err.setAttribute("role", "alert");
        sec.querySelector("h2").insertAdjacentElement("afterend", err);
      }
      err.textContent = fig.error;
    } else if (err) {
      err.remove();
    }
  }

  function banner(lines) {
    let b = document.getElementById("live-banner");
    if (!lines || !lines.length) {
      if (b) b.remove();
      return;
    }
    if (!b) {
      b = document.createElement("div");
      b.id = "live-banner";
      b.setAttribute("role", "alert");
      document.body.prepend(b);
    }
    b.textContent = "";
    const head = document.createElement("strong");
    head.textContent = "The lesson has a problem; the last good figures stay below.";
    b.appendChild(head);
    const pre = document.createElement("pre");
    pre.textContent = lines.join("\n");
    b.appendChild(pre);
  }

  function bust(root, version) {
    // the same file names hold new bytes: make the browser fetch them again
    const tag = "v=" + encodeURIComponent(version);
    const fix = (url) => {
      if (!url || url.startsWith("data:") || /^[a-z]+:/i.test(url)) return url;
      return url + (url.includes("?") ? "&" : "?") + tag;
    };
    for (const el of root.querySelectorAll("[src]")) el.setAttribute("src", fix(el.getAttribute("src")));
    for (const el of root.querySelectorAll("video[poster]")) el.setAttribute("poster", fix(el.getAttribute("poster")));
    for (const el of root.querySelectorAll("source[srcset]")) el.setAttribute("srcset", fix(el.getAttribute("srcset")));
    for (const el of root.querySelectorAll("a.file")) el.setAttribute("href", fix(el.getAttribute("href")));
  }

  let fetching = null;
  async function refresh(names, state) {
    const res = await fetch("/", { cache: "no-store" });
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const y = window.scrollY;
    const order = Array.from(doc.querySelectorAll("section.figure[data-figure]"), (s) => s.dataset.figure);
    const mine = Array.from(document.querySelectorAll("section.figure[data-figure]"), (s) => s.dataset.figure);
    if (order.join("\n") !== mine.join("\n")) {
      // figures came, went or moved: take the whole page body (and header)
      for (const sel of ["main", "header"]) {
        const fresh = doc.querySelector(sel), old = document.querySelector(sel);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      }
      for (const name of order) {
        const fig = state.figures[name];
        const sec = section(name);
        if (sec && fig) { bust(sec, fig.version); sec.dataset.version = fig.version; }
      }
    } else {
      for (const name of names) {
        const fresh = doc.querySelectorAll("section.figure[data-figure]")[order.indexOf(name)];
        const old = section(name);
        if (!fresh || !old) continue;
        const node = document.importNode(fresh, true);
        bust(node, state.figures[name].version);
        node.dataset.version = state.figures[name].version;
        old.replaceWith(node);
      }
      const head = doc.querySelector("header .lead"), mineHead = document.querySelector("header .lead");
      if (head && mineHead) mineHead.replaceWith(document.importNode(head, true));
    }
    window.scrollTo(0, y);
    live.updates += 1;
  }

  function apply(state) {
    live.state = state;
    banner(state.error);
    const changed = [];
    for (const name of state.order) {
      const fig = state.figures[name];
      if (!fig) continue;
      if (!(name in known)) {  // what the page was served with
        const sec = section(name);
        known[name] = sec ? (sec.dataset.version || "") : "";
      }
      if (fig.version && known[name] !== fig.version) changed.push(name);
    }
    const go = () => {
      for (const name of changed) known[name] = state.figures[name].version;
      for (const name of state.order) {
        const sec = section(name), fig = state.figures[name];
        if (sec && fig) badge(sec, fig);
      }
    };
    if (changed.length) {
      fetching = (fetching || Promise.resolve())
        .then(() => refresh(changed, state)).then(go, go);
    } else {
      go();
    }
  }

  function connect() {
    const es = new EventSource("/_neuroanim/events");
    es.onopen = () => { live.connected = true; document.documentElement.dataset.live = "connected"; };
    es.onerror = () => { live.connected = false; document.documentElement.dataset.live = "reconnecting"; };
    es.onmessage = (e) => {
      try { apply(JSON.parse(e.data)); } catch (err) { console.error(err); }
    };
  }
  connect();
})();
