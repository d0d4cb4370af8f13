/* Editor-side code shared by the face nodes' dialogs (served by Node-RED at
   resources/node-red-contrib-facefusion/facefusion-editor.js; see docs/ARCHITECTURE.md,
   "Dialog defaults and saved flows"):
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
    return function (v) {
      return v === '' || v === undefined || (Number(v) >= lo && Number(v) <= hi) || what;
    };
  }
  /** Validators by field name; a node's definition.validate adds or replaces some. */
  var VALIDATE = {
    queueSize: function (v) {
      return v === '' || Number(v) >= 0 || 'a number ≥ 0';
    },
    retries: function (v) {
      return v === '' || v === undefined || (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 10) || 'a whole number from 1 to 10';
    },
    blendRatio: between(0, 1, 'a number from 0 to 1'),
    scoreThreshold: between(0, 1, 'a number from 0 to 1'),
    maxFaces: function (v) {
      return v === '' || (Number.isInteger(Number(v)) && Number(v) >= 1) || 'a whole number ≥ 1';
    },
    referenceDistance: between(-1, 1, 'a number from -1 to 1'),
    swapperWeight: between(0, 1, 'a number from 0 to 1'),
    enhancerWeight: between(0, 1, 'a number from 0 to 1'),
    maskBlur: between(0, 1, 'a number from 0 to 1'),
    strength: between(0, 1, 'a number from 0 to 1'),
    threshold: between(-1, 1, 'a number from -1 to 1'),
  };

  /**
   * Texts of the shared rows and help are messages of the config node's catalog
   * (src/nodes/locales/<lang>/facefusion-config.json, key "ff"), which Node-RED loads with every
   * node set: `data-i18n` keys that name their namespace are left as they are by the editor.
   */
  var NS = 'node-red-contrib-facefusion/facefusion-config:';
  function i18n(key, html) {
    return '<span data-i18n="' + (html ? '[html]' : '') + NS + 'ff.' + key + '"></span>';
  }
  function option(value, key) {
    return '<option value="' + value + '" data-i18n="' + NS + 'ff.' + key + '"></option>';
  }
  function t(key, vars) {
    return RED._(NS + 'ff.' + key, vars);
  }

  function row(icon, key, label, control) {
    return '<div class="form-row"><label for="node-input-' + key + '"><i class="fa ' + icon + '"></i> ' + i18n('label.' + label) + '</label>' + control + '</div>';
  }

  /** Shared rows by name; `arg` is the word after a colon in data-ff-rows (e.g. "faces:origin"). */
  var ROWS = {
    config: function () {
      return row('fa-cog', 'config', 'config', '<input type="text" id="node-input-config">');
    },
    model: function () {
      return row('fa-cube', 'model', 'model', '<input type="text" id="node-input-model" style="width:70%">');
    },
    faces: function (arg) {
      return row(
        'fa-users',
        'faceSelector',
        'faceSelector',
        '<select id="node-input-faceSelector" style="width:70%">' +
          option('', arg === 'origin' ? 'faceSelector.notSet' : 'faceSelector.fromToken') +
          option('one', 'faceSelector.one') +
          option('many', 'faceSelector.many') +
          option('reference', 'faceSelector.reference') +
          '</select>',
      );
    },
    noFace: function () {
      return (
        row(
          'fa-user-times',
          'onNoFace',
          'onNoFace',
          '<select id="node-input-onNoFace" style="width:70%">' + option('pass', 'onNoFace.pass') + option('drop', 'onNoFace.drop') + option('error', 'onNoFace.error') + '</select>',
        ) + ROWS.failure()
      );
    },
    /** On failure (catch | pass | drop | retry), retries, and the optional second output (part of the noFace rows). */
    failure: function () {
      return (
        row(
          'fa-exclamation-triangle',
          'onFailure',
          'onFailure',
          '<select id="node-input-onFailure" style="width:70%">' +
            option('catch', 'onFailure.catch') +
            option('pass', 'onFailure.pass') +
            option('drop', 'onFailure.drop') +
            option('retry', 'onFailure.retry') +
            '</select>',
        ) +
        row('fa-repeat', 'retries', 'retries', '<input type="number" id="node-input-retries" min="1" max="10" style="width:80px"> ' + i18n('hint.retries')) +
        row(
          'fa-sign-out',
          'failureOutput',
          'failureOutput',
          '<input type="checkbox" id="node-input-failureOutput" style="width:auto; margin:0 4px 0 0"> ' + i18n('hint.failureOutput') + '<input type="hidden" id="node-input-outputs">',
        )
      );
    },
    // The backlog alone (nodes that have no busy/dropped choices); `queue` adds those.
    queueSize: function () {
      return row('fa-list', 'queueSize', 'queueSize', '<input type="number" id="node-input-queueSize" min="0" style="width:80px"> ' + i18n('hint.queueSize'));
    },
    dropWhenBusy: function () {
      return row('fa-forward', 'dropWhenBusy', 'dropWhenBusy', '<input type="checkbox" id="node-input-dropWhenBusy" style="width:auto; margin:0 4px 0 0"> ' + i18n('hint.dropWhenBusy'));
    },
    queue: function () {
      return (
        ROWS.queueSize() +
        ROWS.dropWhenBusy() +
        row('fa-trash-o', 'releaseDropped', 'releaseDropped', '<input type="checkbox" id="node-input-releaseDropped" style="width:auto; margin:0 4px 0 0"> ' + i18n('hint.releaseDropped'))
      );
    },
    thumbnail: function () {
      return row(
        'fa-picture-o',
        'thumbnail',
        'thumbnail',
        '<select id="node-input-thumbnail" style="width:auto">' +
          option('', 'thumbnail.off') +
          option('120', 'thumbnail.120') +
          option('160', 'thumbnail.160') +
          option('240', 'thumbnail.240') +
          option('320', 'thumbnail.320') +
          '</select> ' +
          i18n('hint.thumbnail'),
      );
    },
    // The face library (config node) of face enrol / recognize / forget.
    library: function () {
      return row('fa-address-book', 'library', 'library', '<input type="text" id="node-input-library">');
    },
    name: function () {
      return row('fa-tag', 'name', 'name', '<input type="text" id="node-input-name">');
    },
  };

  /**
   * Shared help paragraphs (markdown), by the name a help uses in `<!--ff:name-->`: messages
   * `ff.help.<name>` of the config node's catalog.
   */
  var HELP_NAMES = ['stage-io', 'model-list', 'token-options', 'stage-policy'];
  function helpText(name) {
    var text = RED._(NS + 'ff.help.' + name);
    return text === NS + 'ff.help.' + name || text === 'ff.help.' + name ? undefined : text;
  }

  function expandTemplate(type) {
    var $template = $('script[data-template-name="' + type + '"]');
    if (!$template.length) return false;
    var html = $template.html();
    var expanded = html.replace(/<div data-ff-rows="([^"]+)"><\/div>/g, function (_m, names) {
      return names
        .split(/\s+/)
        .map(function (spec) {
          var parts = spec.split(':');
          var make = ROWS[parts[0]];
          if (!make) throw new Error('facefusion-editor: no shared row ' + parts[0]);
          return make(parts[1]);
        })
        .join('\n');
    });
    if (expanded !== html) $template.html(expanded);
    var $help = $('script[data-help-name="' + type + '"]');
    if ($help.length) {
      var help = $help.html();
      var helped = help
        .replace(/<!--ff:([a-z-]+)-->/g, function (m, name) {
          return helpText(name) || m;
        })
        .replace(/&lt;!--ff:([a-z-]+)--&gt;/g, function (m, name) {
          return helpText(name) || m;
        });
      if (helped !== help) $help.text(helped);
    }
    return true;
  }

  /**
   * Node-RED `defaults` from the shared table (+ the node's own validators and required fields),
   * the node's config version (resources/node-migrations.js: new nodes get the current one) and
   * the fields older versions saved, kept only until `migrateLoaded` moved them.
   */
  function defaultsFor(type, validate, required) {
    var table = window.FaceFusionDefaults && window.FaceFusionDefaults[type];
    if (!table) throw new Error('facefusion-editor: resources/node-defaults.js has no entry for ' + type);
    var out = {};
    var migrations = window.FaceFusionMigrations;
    if (migrations) {
      out[migrations.FIELD] = { value: migrations.currentVersion(type) };
      migrations.legacyFields(type).forEach(function (key) {
        out[key] = { value: undefined };
      });
    }
    Object.keys(table).forEach(function (key) {
      var spec = { value: table[key] };
      if (key === 'config') {
        spec.type = 'facefusion-config';
        spec.required = true;
      }
      // A job queue (Redis) is a config node too; blank = jobs run in this process. Optional
      // unless the node says it is required: Node-RED treats a config reference without
      // `required: false` as missing when blank (a red triangle on import).
      if (key === 'queue') {
        spec.type = 'facefusion-queue';
        spec.required = false;
      }
      // The face library (a SQLite file of people) of face enrol / recognize / forget.
      if (key === 'library') {
        spec.type = 'face-library';
        spec.required = true;
      }
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
      if (key === 'config' || key === 'queue' || key === 'library' || node[key] !== undefined) return;
      var $input = $('#' + prefix + '-' + key);
      if (!$input.length) return;
      if ($input.attr('type') === 'checkbox') $input.prop('checked', table[key] === true);
      else $input.val(String(table[key]));
      $input.trigger('change');
    });
  }

  /**
   * Runs resources/node-migrations.js on each face node as a flow loads or is imported (the
   * runtime does the same when it starts the flow). A migrated node is marked changed and the
   * flow dirty, and one notification names what moved, so the next deploy saves the new form.
   * Registered once, however many node sets load this file.
   */
  function listenForOldNodes() {
    if (window.FaceFusionMigrationsListening || !window.FaceFusionMigrations || !RED.events) return;
    window.FaceFusionMigrationsListening = true;
    var migrations = window.FaceFusionMigrations;
    var pending = [];
    var timer;
    RED.events.on('nodes:add', function (node) {
      if (!node || !node._def || !window.FaceFusionDefaults || !window.FaceFusionDefaults[node.type]) return;
      if (migrations.versionOf(node) >= migrations.currentVersion(node.type)) return;
      var saved = {};
      Object.keys(node._def.defaults).forEach(function (key) {
        if (node[key] !== undefined) saved[key] = node[key];
      });
      var result = migrations.migrate(node.type, saved);
      Object.keys(node._def.defaults).forEach(function (key) {
        if (result.node[key] === undefined) delete node[key];
        else node[key] = result.node[key];
      });
      node.changed = true;
      node.dirty = true;
      pending.push({ node: node, notes: result.notes, from: result.from, to: result.to });
      // Loading a flow marks the workspace clean after its nodes are added: say it once after that.
      clearTimeout(timer);
      timer = setTimeout(function () {
        var done = pending;
        pending = [];
        if (!done.length) return;
        RED.nodes.dirty(true);
        var notes = [];
        done.forEach(function (d) {
          d.notes.forEach(function (n) {
            if (notes.indexOf(d.node.type + ': ' + n) < 0) notes.push(d.node.type + ': ' + n);
          });
        });
        RED.notify(
          '<p>' +
            $('<span>')
              .text(t('migrated', { count: done.length }))
              .html() +
            '</p><ul><li>' +
            notes
              .map(function (n) {
                return $('<span>').text(n).html();
              })
              .join('</li><li>') +
            '</li></ul>',
          { type: 'warning', timeout: 10000, id: 'facefusion-migrated' },
        );
        RED.view.redraw(true);
      }, 0);
    });
  }

  /**
   * Adds a "none" choice (value '') to an optional config node select that lacks one: Node-RED
   * lists the nodes of the type and then "none", but with no node of the type only "Add new …".
   */
  function offerNone($select, value) {
    var $options = $select.find('option');
    if (!$select.length || $options.filter('[value=""]').length || $options.length !== 1) return;
    $('<option value="">').text(noneLabel()).prependTo($select);
    if (!value) $select.val('');
  }

  function noneLabel() {
    return t('none');
  }

  function register(type, definition) {
    listenForOldNodes();
    var prepare = definition.oneditprepare;
    var prefix = definition.category === 'config' ? 'node-config-input' : 'node-input';
    var own = definition.defaults || {};
    definition.defaults = defaultsFor(type, definition.validate, definition.required);
    // A field a node still declares itself is kept (so nothing is lost), but it belongs in the
    // table: test/browser-editor.test.js names every such field.
    Object.keys(own).forEach(function (key) {
      if (!definition.defaults[key]) definition.defaults[key] = own[key];
    });
    delete definition.validate;
    delete definition.required;
    var modelRole = definition.modelRole;
    var modelBlank = definition.modelBlank;
    delete definition.modelRole;
    delete definition.modelBlank;
    var optional = Object.keys(definition.defaults).filter(function (key) {
      return definition.defaults[key].type && definition.defaults[key].required === false;
    });
    definition.oneditprepare = function () {
      fillMissing(this, type, prefix);
      // An optional config reference always offers "none" (Node-RED offers it only once a node
      // of that type exists, else just "Add new …").
      var node = this;
      optional.forEach(function (key) {
        offerNone($('#' + prefix + '-' + key), node[key]);
      });
      // The second output follows its checkbox; Node-RED redraws the ports from `outputs`.
      var $second = $('#node-input-failureOutput');
      if ($second.length) {
        var syncOutputs = function () {
          $('#node-input-outputs').val($second.prop('checked') ? '2' : '1');
        };
        $second.on('change', syncOutputs);
        syncOutputs();
      }
      if (modelRole && window.FaceFusionModelPicker) window.FaceFusionModelPicker.attach('#node-input-model', modelRole, '#node-input-config', modelBlank);
      if (prepare) prepare.call(this);
    };
    if (!expandTemplate(type)) {
      // The template of this node set is added to the page after its scripts ran: expand it then.
      var tries = 0;
      (function retry() {
        if (!expandTemplate(type) && ++tries < 50) setTimeout(retry, 20);
      })();
    }
    RED.nodes.registerType(type, definition);
  }

  window.FaceFusionEditor = { register: register, defaultsFor: defaultsFor, rows: ROWS, helpNames: HELP_NAMES, helpText: helpText };
})();
