// Converts MJML documents to HTML in a worker thread (see compileAll in engine.ts): MJML and its
// dependencies take tens of megabytes once loaded, which go away with the thread instead of
// staying in every process that sends mail.
import { parentPort, workerData } from 'node:worker_threads';
import mjml2html from 'mjml';

const out = [];
for (const doc of workerData.documents) {
  const result = await mjml2html(doc, { validationLevel: 'strict', keepComments: false });
  out.push(result.html);
}
parentPort.postMessage(out);
