import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';
import { loadHl7GatewayConfig } from '../../../services/hl7-gateway/config.ts';
import { mllpFrame } from '../../../services/hl7-gateway/mllp-framer.ts';
import { startHl7Gateway, type RunningHl7Gateway } from '../../../services/hl7-gateway/service.ts';
import type { OutgoingMessage } from '../../../services/shared/kafka/producer.ts';
import { createLogger } from '../../../services/shared/observability/logger.ts';

// The listener's network rules, with a publisher that acknowledges at once (no Kafka needed).
const dir = mkdtempSync(path.join(tmpdir(), 'fh-hl7-tls-'));
const gateways: RunningHl7Gateway[] = [];
after(async () => {
  for (const g of gateways) await g.stop();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string) => path.join(dir, name);
/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(): void {
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  for (const who of ['server', 'client']) {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${who}`,
      '-keyout',
      file(`${who}.key`),
      '-out',
      file(`${who}.csr`),
    ]);
    run([
      'x509',
      '-req',
      '-in',
      file(`${who}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      file(`${who}.pem`),
    ]);
  }
}

const published: OutgoingMessage[] = [];
async function gateway(env: Record<string, string>): Promise<RunningHl7Gateway> {
  const config = loadHl7GatewayConfig({
    KAFKA_BROKERS: 'unused:9092',
    HL7_GATEWAY_PORT: '0',
    HL7_GATEWAY_HOST: '127.0.0.1',
    HL7_GATEWAY_HTTP_PORT: '0',
    HL7_GATEWAY_HTTP_HOST: '127.0.0.1',
    ...env,
  });
  const g = await startHl7Gateway(config, createLogger('test', 'silent'), {
    publisher: { publish: async (m) => void published.push(...m) },
  });
  gateways.push(g);
  return g;
}

const oru = 'MSH|^~\\&|RIS|GENHOSP|FH|R|20240105||ORU^R01|TLS-1|P|2.5.1\rOBX|1|TX|||Normal.\r';

/** Writes one framed message on a connected socket; resolves with the reply, or '' when closed. */
function exchange(socket: tls.TLSSocket | import('node:net').Socket): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.includes('\x1c\r')) {
        socket.end();
        resolve(reply);
      }
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(reply));
    socket.write(mllpFrame(oru));
  });
}

describe('MLLP listener', () => {
  it('closes connections from peers outside HL7_GATEWAY_ALLOWED_PEERS without reading them', async () => {
    const g = await gateway({ HL7_GATEWAY_ALLOWED_PEERS: '10.0.0.0/8' });
    const socket = connect(g.mllpPort, '127.0.0.1');
    assert.equal(await exchange(socket), '');
    const allowed = await gateway({ HL7_GATEWAY_ALLOWED_PEERS: '10.0.0.0/8, 127.0.0.1' });
    assert.match(await exchange(connect(allowed.mllpPort, '127.0.0.1')), /MSA\|AA\|TLS-1/);
  });

  it('speaks TLS and, with a CA, accepts only clients holding a certificate it signed', async () => {
    makeCertificates();
    const g = await gateway({
      HL7_GATEWAY_TLS_CERT_FILE: file('server.pem'),
      HL7_GATEWAY_TLS_KEY_FILE: file('server.key'),
      HL7_GATEWAY_TLS_CA_FILE: file('ca.pem'),
    });
    const withCertificate = tls.connect({
      port: g.mllpPort,
      host: '127.0.0.1',
      ca: [readFileSync(file('ca.pem'))],
      cert: readFileSync(file('client.pem')),
      key: readFileSync(file('client.key')),
      checkServerIdentity: () => undefined,
    });
    await new Promise((resolve) => withCertificate.once('secureConnect', resolve));
    assert.match(await exchange(withCertificate), /MSA\|AA\|TLS-1/);
    const without = tls.connect({ port: g.mllpPort, host: '127.0.0.1', rejectUnauthorized: false });
    assert.equal(await exchange(without), '', 'no ACK without a client certificate');
    assert.equal(await exchange(connect(g.mllpPort, '127.0.0.1')), '', 'no ACK over plain TCP');
  });

  it('refuses to start with half a TLS configuration, naming the variable', async () => {
    await assert.rejects(
      gateway({ HL7_GATEWAY_TLS_CERT_FILE: file('server.pem') }),
      /HL7_GATEWAY_TLS_KEY_FILE/,
    );
  });
});
