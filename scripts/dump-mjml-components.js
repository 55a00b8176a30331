// Regenerate mailpipe/render/mjml_components.json from an installed npm mjml:
//   npm install --prefix .node mjml@5.4.1 && NODE_PATH=.node/node_modules node scripts/dump-mjml-components.js
// then add the root <mjml> entry (lang, dir, owa; children mj-head, mj-body) as in the committed file.
const { components } = require('mjml-core');
require('mjml');
const dependencies = require('mjml-validator').dependencies;
const out = { mjml_version: require('mjml/package.json').version, components: {} };
for (const [tag, Component] of Object.entries(components)) {
  out.components[tag] = {
    attributes: Component.allowedAttributes || {},
    children: (dependencies[tag] || []).map(d => (d instanceof RegExp ? { regex: d.source } : d)),
    ending_tag: !!Component.endingTag,
  };
}
console.log(JSON.stringify(out, null, 1));
