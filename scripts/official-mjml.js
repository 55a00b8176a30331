// Compile MJML with the official npm mjml, in-process: the reference oracle for tests and benchmarks.
// stdin: {"mjml": ["<mjml>…", …], "iterations": N, "validationLevel": "strict"|"soft"|"skip"}
//     or {"files": ["/path/a.mjml", …], …}: each file read and compiled as the mjml CLI does (its mj-include resolved)
// stdout: {"results": [{"html": "…", "errors": [{"line": n, "message": "…", "tagName": "…"}]}], "median_ms": [per input]}
const mjml2html = require('mjml');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const iterations = request.iterations || 1;
  const results = [];
  const medianMs = [];
  const fs = require('fs');
  const inputs = request.files
    ? request.files.map(file => ({ source: fs.readFileSync(file, 'utf8'), options: { filePath: file, ignoreIncludes: false } }))
    : request.mjml.map(source => ({ source, options: {} }));
  for (const { source, options } of inputs) {
    const times = [];
    let result = null;
    for (let i = 0; i < iterations; i += 1) {
      const start = process.hrtime.bigint();
      try {
        const output = await mjml2html(source, { ...options, validationLevel: request.validationLevel || 'soft' });
        result = { html: output.html, errors: output.errors.map(e => ({ line: e.line, message: e.message, tagName: e.tagName })) };
      } catch (error) {
        const details = error.errors || [{ line: null, message: String(error.message || error) }];
        result = { html: null, errors: details.map(e => ({ line: e.line, message: e.formattedMessage || e.message, tagName: e.tagName })) };
      }
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    medianMs.push(times[Math.floor(times.length / 2)]);
    results.push(result);
  }
  process.stdout.write(JSON.stringify({ results, median_ms: medianMs }));
}

main().catch(error => { console.error(error); process.exit(1); });
