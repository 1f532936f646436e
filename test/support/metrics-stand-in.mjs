// A stand-in exporter for tests: an HTTPS server that answers every request with the Prometheus text in
// the file $BODY_FILE, on $LISTEN_HOST:$LISTEN_PORT (0: any free port), with the certificate and key in
// $CERT_FILE and $KEY_FILE. It prints `listening <port>` once it listens. Meant to run inside a network
// namespace the test created (test/support/netns.ts), so that it has an address the Endpoints API accepts.
import { readFileSync } from 'node:fs';
import https from 'node:https';

const body = readFileSync(process.env.BODY_FILE);
const server = https.createServer(
  { cert: readFileSync(process.env.CERT_FILE), key: readFileSync(process.env.KEY_FILE) },
  (_req, res) => {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end(body);
  },
);
server.listen(Number(process.env.LISTEN_PORT ?? 0), process.env.LISTEN_HOST, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
