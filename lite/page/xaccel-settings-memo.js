// xaccel: JupyterLab's settings, validated once per content instead of on every load
// (loaded by the app pages of a site built by lite/build).
//
// As the app boots, JupyterLab's setting registry validates every plugin's settings
// against the plugin's JSON schema and fills in the defaults: two Ajv validators per
// plugin (about a hundred plugins), each compiled to JavaScript first. That compilation
// was the largest single piece of the app's boot (0.4-0.5 s of main-thread time on the
// test machine), and it is done again on every load for the same schemas and the same
// user settings.
//
// lite/site_patch.py makes the registry's validator ask this memo first: a plugin whose
// schema and raw user settings hash to what they were when its settings last passed
// validation gets the composite settings computed then (the result is a pure function
// of the two). Anything else (a new schema, settings edited elsewhere, an entry damaged
// or from another build) is validated as before, and the result is remembered. The memo
// lives in localStorage under a key naming the JupyterLab bundle, so a rebuilt app does
// not read another build's entries; storage errors only disable the memo.
//
// A first visit has nothing stored yet: lite/settings_seed.js, run by lite/build, boots
// the built site in headless Chromium and writes what this memo held there to
// xaccel-settings-seed.js (`self.xaccelSettingsSeed`, loaded beside this script), and a
// plugin with no entry of its own here is looked up there, under the same rule (same
// bundle, same hashes). The seed is read, never written: what is validated here goes to
// localStorage as before.
(function () {
  "use strict";
  var PREFIX = "xaccel-settings-memo:";
  var FLUSH_MS = 1000;
  var table = null;
  var storageKey = null;
  var flushTimer = null;
  var seed = null;
  var stats = { stored: 0, seeded: 0, hits: 0, misses: [] };

  // A 64-bit string hash (two 32-bit multiply-xor lanes, then mixed), as base-36 text.
  function hash(text) {
    var a = 0xdeadbeef, b = 0x41c6ce57;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 2654435761);
      b = Math.imul(b ^ c, 1597334677);
    }
    a = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
    b = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
    return (b >>> 0).toString(36) + "." + (a >>> 0).toString(36);
  }

  // A validation asks (get) before it compiles and tells (put) after, for the same
  // plugin, in one synchronous run: the key is computed once for it. It is forgotten
  // when the run ends, so a schema changed in place later is hashed again.
  var last = null;
  function entryKey(plugin) {
    if (last === null || last.plugin !== plugin || last.schema !== plugin.schema || last.raw !== plugin.raw) {
      if (last === null) Promise.resolve().then(function () { last = null; });
      last = { plugin: plugin, schema: plugin.schema, raw: plugin.raw,
               key: hash(JSON.stringify(plugin.schema)) + ":" + hash(String(plugin.raw)) };
    }
    return last.key;
  }

  function load(build) {
    if (table !== null && storageKey === PREFIX + build) return table;
    storageKey = PREFIX + build;
    table = {};
    var given = self.xaccelSettingsSeed;
    seed = given && given.build === build && given.entries && typeof given.entries === "object" ? given.entries : {};
    stats.seeded = Object.keys(seed).length;
    try {
      var stored = JSON.parse(localStorage.getItem(storageKey) || "{}");
      if (stored && typeof stored === "object") table = stored;
      stats.stored = Object.keys(table).length;
      // entries of other builds are dead weight
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var k = localStorage.key(i);
        if (k && k.indexOf(PREFIX) === 0 && k !== storageKey) localStorage.removeItem(k);
      }
    } catch (e) {
      // no storage (or a damaged entry): validate everything, as without the memo
    }
    return table;
  }

  function flush() {
    if (flushTimer === null) return;
    clearTimeout(flushTimer);
    flushTimer = null;
    try {
      localStorage.setItem(storageKey, JSON.stringify(table));
    } catch (e) {
      // over quota or no storage: the next load validates again
    }
  }

  self.xaccelSettingsMemo = {
    // The composite settings remembered for this schema and these user settings, or null.
    get: function (plugin, build) {
      var entries = [load(build)[plugin.id], seed[plugin.id]];
      for (var i = 0; i < entries.length; i++) {
        var entry = entries[i];
        if (entry && entry.key === entryKey(plugin) && typeof entry.composite === "string") {
          try {
            var composite = JSON.parse(entry.composite);
            stats.hits += 1;
            return composite;
          } catch (e) {
            // a damaged entry: the seed's, or validated again below
          }
        }
      }
      // (the validator asks twice for a plugin it has not seen yet)
      if (stats.misses.indexOf(plugin.id) < 0) stats.misses.push(plugin.id);
      return null;
    },
    // Remembers the composite of settings that just passed validation.
    put: function (plugin, composite, build) {
      load(build)[plugin.id] = { key: entryKey(plugin), composite: JSON.stringify(composite) };
      if (flushTimer === null) flushTimer = setTimeout(flush, FLUSH_MS);
    },
    stats: function () {
      return { stored: stats.stored, seeded: stats.seeded, hits: stats.hits, misses: stats.misses.slice() };
    },
    // What this page validated or read from storage (not the seed's), for lite/settings_seed.js.
    entries: function () {
      return { build: storageKey === null ? null : storageKey.slice(PREFIX.length), entries: table || {} };
    },
  };
  // a page closed within FLUSH_MS of a change still keeps it
  self.addEventListener("pagehide", flush);
})();
