// Regenerate mailpipe/render/mjml_components.json from an installed npm mjml:
//   npm install --prefix .node mjml@5.4.1 && NODE_PATH=.node/node_modules node scripts/dump-mjml-components.js > mailpipe/render/mjml_components.json
const { components } = require('mjml-core');
require('mjml');
const dependencies = require('mjml-validator').dependencies;
const colors = require('mjml-core/lib/types/helpers/colors');
const out = {
  _source: 'Generated from npm mjml@' + require('mjml/package.json').version + ' (MIT, (c) Mailjet) by scripts/dump-mjml-components.js: '
    + "each component's allowedAttributes, the validator's allowed children, whether it holds raw HTML (endingTag), "
    + "and the colour names mjml-core's color type accepts. The root <mjml> is the parser's own (mjml-core reads lang, dir and owa).",
  mjml_version: require('mjml/package.json').version,
  colors,
  components: {},
};
for (const [tag, Component] of Object.entries(components)) {
  out.components[tag] = {
    attributes: Component.allowedAttributes || {},
    children: (dependencies[tag] || []).map(d => (d instanceof RegExp ? { regex: d.source } : d)),
    ending_tag: !!Component.endingTag,
  };
}
out.components.mjml = { attributes: { lang: 'string', dir: 'string', owa: 'string' }, children: ['mj-head', 'mj-body', 'mj-raw'], ending_tag: false };
console.log(JSON.stringify(out, null, 1));
