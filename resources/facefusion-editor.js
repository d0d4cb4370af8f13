/* Editor-side code shared by the face nodes' dialogs (served by Node-RED at
   resources/node-red-contrib-facefusion/facefusion-editor.js; issue 11 item 7, issue 19):
   - FaceFusionEditor.register(type, definition): registers a node type with its `defaults`
     built from the shared table (resources/node-defaults.js, the same table the runtime reads),
     fills the fields a saved flow lacks with those defaults when the dialog opens (so the dialog
     shows what runs), and attaches the model picker (resources/model-picker.js) when
     `definition.modelRole` is set;
   - the dialog rows every stage node has (runtime, model, faces, no-face policy, queue, name)
     and the help paragraphs they share: a template holds `<div data-ff-rows="queue"></div>`,
     a markdown help a line `<!--ff:stage-policy-->`, expanded once when the type registers. */
(function () {
  'use strict';

  function between(lo, hi, what) {
    return function (v) { return v === '' || v === undefined || (Number(v) >= lo && Number(v) <= hi) || what; };
  }
  /** Validators by field name; a node's definition.validate adds or replaces some. */
  var VALIDATE = {
    queueSize: function (v) { return v === '' || Number(v) >= 0 || 'a number ≥ 0'; },
    retries: function (v) { return v === '' || v === undefined || (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 10) || 'a whole number from 1 to 10'; },
    blendRatio: between(0, 1, 'a number from 0 to 1'),
    scoreThreshold: between(0, 1, 'a number from 0 to 1'),
    maxFaces: function (v) { return v === '' || (Number.isInteger(Number(v)) && Number(v) >= 1) || 'a whole number ≥ 1'; },
    referenceDistance: between(-1, 1, 'a number from -1 to 1'),
    swapperWeight: between(0, 1, 'a number from 0 to 1'),
    enhancerWeight: between(0, 1, 'a number from 0 to 1'),
    maskBlur: between(0, 1, 'a number from 0 to 1'),
    strength: between(0, 1, 'a number from 0 to 1'),
    threshold: between(-1, 1, 'a number from -1 to 1')
  };

  var SELECTOR_HINT = 'reference (like reference_embedding)';

  function row(icon, key, label, control) {
    return '<div class="form-row"><label for="node-input-' + key + '"><i class="fa ' + icon + '"></i> ' + label + '</label>' + control + '</div>';
  }

  /** Shared rows by name; `arg` is the word after a colon in data-ff-rows (e.g. "faces:origin"). */
  var ROWS = {
    config: function () { return row('fa-cog', 'config', 'Runtime', '<input type="text" id="node-input-config">'); },
    model: function () { return row('fa-cube', 'model', 'Model', '<input type="text" id="node-input-model" style="width:70%">'); },
    faces: function (arg) {
      var blank = arg === 'origin' ? 'not set (many: all faces)' : 'from the token (many)';
      return row('fa-users', 'faceSelector', 'Faces', '<select id="node-input-faceSelector" style="width:70%">' +
        '<option value="">' + blank + '</option>' +
        '<option value="one">one (the largest face)</option>' +
        '<option value="many">many (all faces)</option>' +
        '<option value="reference">' + SELECTOR_HINT + '</option></select>');
    },
    noFace: function () {
      return row('fa-user-times', 'onNoFace', 'No face', '<select id="node-input-onNoFace" style="width:70%">' +
        '<option value="pass">pass on (state skipped)</option>' +
        '<option value="drop">drop the message</option>' +
        '<option value="error">error (to a Catch node)</option></select>') + ROWS.failure();
    },
    /** On failure (catch | pass | drop | retry), retries, and the optional second output (part of the noFace rows). */
    failure: function () {
      return row('fa-exclamation-triangle', 'onFailure', 'On failure', '<select id="node-input-onFailure" style="width:70%">' +
        '<option value="catch">error (to a Catch node)</option>' +
        '<option value="pass">pass the token on unchanged</option>' +
        '<option value="drop">drop the message</option>' +
        '<option value="retry">retry the stage</option></select>') +
        row('fa-repeat', 'retries', 'Retries', '<input type="number" id="node-input-retries" min="1" max="10" style="width:80px"> times, then as error') +
        row('fa-sign-out', 'failureOutput', 'Output 2', '<input type="checkbox" id="node-input-failureOutput" style="width:auto; margin:0 4px 0 0"> failed and no-face tokens leave by a second output' +
        '<input type="hidden" id="node-input-outputs">');
    },
    // The backlog alone (nodes that have no busy/dropped choices); `queue` adds those.
    queueSize: function () {
      return row('fa-list', 'queueSize', 'Queue', '<input type="number" id="node-input-queueSize" min="0" style="width:80px"> messages waiting at most; more are dropped');
    },
    queue: function () {
      return ROWS.queueSize() +
        row('fa-forward', 'dropWhenBusy', 'When busy', '<input type="checkbox" id="node-input-dropWhenBusy" style="width:auto; margin:0 4px 0 0"> drop new messages instead of queueing them (live sources)') +
        row('fa-trash-o', 'releaseDropped', 'Dropped', '<input type="checkbox" id="node-input-releaseDropped" style="width:auto; margin:0 4px 0 0"> free the picture of a dropped message');
    },
    thumbnail: function () {
      return row('fa-picture-o', 'thumbnail', 'Thumbnail', '<select id="node-input-thumbnail" style="width:auto">' +
        '<option value="">off</option><option value="120">120 px</option><option value="160">160 px</option>' +
        '<option value="240">240 px</option><option value="320">320 px</option></select> the result under the node in the editor');
    },
    name: function () { return row('fa-tag', 'name', 'Name', '<input type="text" id="node-input-name">'); }
  };

  /** Shared help paragraphs (markdown). */
  var HELP = {
    'stage-io': [
      '### Inputs',
      ': payload (object) : a face token (from a *face token* node or an earlier face node).',
      '',
      '### Outputs',
      ': payload (object) : the new face token, with one more journal entry.',
      '',
      'With **Output 2** ticked, the second output carries failed and no-face tokens, with `msg.error`.'
    ].join('\n'),
    'model-list': [
      'The **Model** field suggests the models of this role with whether each is downloaded and its',
      'licence; several are for non-commercial use only (fetch them in the runtime\'s dialog, which',
      'asks you to accept such a licence first). A file of the wrong kind is refused with',
      '`E_MODEL_CONTRACT` naming what does not fit; a missing model with `E_MODEL_MISSING` naming',
      'where to get it. A model named here is loaded at deploy, so a problem shows on the status at once.'
    ].join('\n'),
    'token-options': [
      'Options of this node left blank (they show the token\'s default in grey, e.g. *token (0.8)*)',
      'use the token\'s parameters (set in the *face token* node or `msg.parameters`); an option',
      'filled in here wins over the token\'s value for this stage.'
    ].join('\n'),
    'stage-policy': [
      'When the picture has no face, **No face** decides: *pass on* sends the token on with state',
      '`skipped` (later face nodes leave it alone), *drop* sends nothing, *error* raises `E_NO_FACE`',
      'for a Catch node. Any other failure goes to the Catch node with `msg.error.code`',
      '(`E_TOKEN_INVALID`, `E_TOKEN_EXPIRED`, `E_FRAME_MISSING`, `E_NO_SOURCE`, …) and shows in red',
      'on the status. One message is processed at a time; up to **Queue** more wait (the blue',
      'status shows how many), further ones are dropped (shown on the status). Tick **When busy**',
      'to drop every message that arrives while one is processed, which keeps a live camera flow',
      'current instead of lagging behind.',
      'With **Dropped** ticked (the default) the picture of a message this node drops (busy, or',
      '*No face: drop*) is freed from the frame store at once instead of waiting for the token TTL;',
      'untick it when the same token also travels down another wire that still needs the picture.',
      '',
      '**On failure** decides what a failed stage (a model error, a bad token, …) does. *error* sends',
      'it to the Catch node (the default); *pass the token on unchanged* sends the token as it came,',
      'with a journal entry (outcome `failed`, the code and `onFailure: pass`), so later nodes still',
      'run; *drop* sends nothing and frees the picture; *retry* runs the stage again on the same',
      'token up to **Retries** times (each failure journalled as `retry n of N`), then goes on as',
      '*error*. Tick **Output 2** to give the node a second output: tokens that failed (with *error*',
      'or after the retries) and tokens without a face (unless *No face* is *drop*) leave by it with',
      '`msg.error` = `{ code, message, stage }` instead of going to the Catch node or output 1.',
      'A failed token\'s pictures are freed at once when nobody takes it (no Catch node for this',
      'node, no Output 2); when one does, they stay for that branch at most 30 s, within a room of',
      'an eighth of the frame budget for all failed tokens (a larger token is freed at once), so a',
      'burst of failing messages cannot fill the frame store.',
      '',
      'When the runtime\'s *When overloaded* is *downgrade* and the machine is short of memory or',
      'time, a *face enhance* node passes tokens on without enhancing them (state',
      '`downgraded_for_performance`, a `downgrade` journal entry naming the reason; the status',
      'shows e.g. `downgraded · memory (12)`), and a model *face swap* leaves out its occlusion and',
      'region masks, then its pixel boost. The work comes back by itself when the pressure is gone.',
      '',
      'The status shows the last result, e.g. `2 faces · 9 ms · cpu`.'
    ].join('\n')
  };

  function expandTemplate(type) {
    var $template = $('script[data-template-name="' + type + '"]');
    if (!$template.length) return false;
    var html = $template.html();
    var expanded = html.replace(/<div data-ff-rows="([^"]+)"><\/div>/g, function (_m, names) {
      return names.split(/\s+/).map(function (spec) {
        var parts = spec.split(':');
        var make = ROWS[parts[0]];
        if (!make) throw new Error('facefusion-editor: no shared row ' + parts[0]);
        return make(parts[1]);
      }).join('\n');
    });
    if (expanded !== html) $template.html(expanded);
    var $help = $('script[data-help-name="' + type + '"]');
    if ($help.length) {
      var help = $help.html();
      var helped = help.replace(/<!--ff:([a-z-]+)-->/g, function (m, name) { return HELP[name] || m; })
        .replace(/&lt;!--ff:([a-z-]+)--&gt;/g, function (m, name) { return HELP[name] || m; });
      if (helped !== help) $help.text(helped);
    }
    return true;
  }

  /** Node-RED `defaults` from the shared table (+ the node's own validators and required fields). */
  function defaultsFor(type, validate, required) {
    var table = window.FaceFusionDefaults && window.FaceFusionDefaults[type];
    if (!table) throw new Error('facefusion-editor: resources/node-defaults.js has no entry for ' + type);
    var out = {};
    Object.keys(table).forEach(function (key) {
      var spec = { value: table[key] };
      if (key === 'config') { spec.type = 'facefusion-config'; spec.required = true; }
      // A job queue (Redis) is a config node too; blank = jobs run in this process.
      if (key === 'queue') spec.type = 'facefusion-queue';
      if (required && required.indexOf(key) >= 0) spec.required = true;
      var check = (validate && validate[key]) || VALIDATE[key];
      if (check) spec.validate = check;
      out[key] = spec;
    });
    return out;
  }

  /** Sets the dialog inputs of fields the node lacks to the table's value (what the runtime uses). */
  function fillMissing(node, type, prefix) {
    var table = window.FaceFusionDefaults[type];
    Object.keys(table).forEach(function (key) {
      if (key === 'config' || key === 'queue' || node[key] !== undefined) return;
      var $input = $('#' + prefix + '-' + key);
      if (!$input.length) return;
      if ($input.attr('type') === 'checkbox') $input.prop('checked', table[key] === true);
      else $input.val(String(table[key]));
      $input.trigger('change');
    });
  }

  function register(type, definition) {
    var prepare = definition.oneditprepare;
    var prefix = definition.category === 'config' ? 'node-config-input' : 'node-input';
    var own = definition.defaults || {};
    definition.defaults = defaultsFor(type, definition.validate, definition.required);
    // A field a node still declares itself is kept (so nothing is lost), but it belongs in the
    // table: test/browser-editor.test.js names every such field.
    Object.keys(own).forEach(function (key) { if (!definition.defaults[key]) definition.defaults[key] = own[key]; });
    delete definition.validate;
    delete definition.required;
    var modelRole = definition.modelRole;
    var modelBlank = definition.modelBlank;
    delete definition.modelRole;
    delete definition.modelBlank;
    definition.oneditprepare = function () {
      fillMissing(this, type, prefix);
      // The second output follows its checkbox; Node-RED redraws the ports from `outputs`.
      var $second = $('#node-input-failureOutput');
      if ($second.length) {
        var syncOutputs = function () { $('#node-input-outputs').val($second.prop('checked') ? '2' : '1'); };
        $second.on('change', syncOutputs);
        syncOutputs();
      }
      if (modelRole && window.FaceFusionModelPicker) window.FaceFusionModelPicker.attach('#node-input-model', modelRole, '#node-input-config', modelBlank);
      if (prepare) prepare.call(this);
    };
    if (!expandTemplate(type)) {
      // The template of this node set is added to the page after its scripts ran: expand it then.
      var tries = 0;
      (function retry() { if (!expandTemplate(type) && ++tries < 50) setTimeout(retry, 20); })();
    }
    RED.nodes.registerType(type, definition);
  }

  window.FaceFusionEditor = { register: register, defaultsFor: defaultsFor, rows: ROWS, help: HELP };
})();
