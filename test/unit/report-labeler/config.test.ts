import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../services/shared/config/env.ts';
import { kafkaConnectionFromEnv } from '../../../services/shared/kafka/config.ts';
import { loadReportLabelerConfig } from '../../../services/report-labeler/config.ts';

const valid = {
  KAFKA_BROKERS: 'k1:9092, k2:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
  DATABASE_URL: 'postgres://svc@db/harvester',
  PATIENT_ID_HMAC_KEY: 'a'.repeat(64),
};

function configError(env: Record<string, string>): string {
  try {
    loadReportLabelerConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('report-labeler configuration', () => {
  it('needs only the four connection settings; everything else has defaults', () => {
    const c = loadReportLabelerConfig(valid);
    assert.equal(c.REPORT_LABELER_INPUT_TOPIC, 'hl7.oru.raw');
    assert.equal(c.REPORT_LABELER_OUTPUT_TOPIC, 'labels.report');
    assert.equal(c.REPORT_LABELER_MAX_MESSAGE_BYTES, 1_048_576);
    assert.equal(c.KAFKA_SSL, false);
    assert.deepEqual(kafkaConnectionFromEnv(c).brokers, ['k1:9092', 'k2:9092']);
  });

  it('refuses to start without a patient id HMAC key, saying what to set', () => {
    const { PATIENT_ID_HMAC_KEY: _omit, ...rest } = valid;
    assert.match(
      configError(rest),
      /PATIENT_ID_HMAC_KEY: set PATIENT_ID_HMAC_KEY to a secret of at least 32 bytes/,
    );
  });

  it('refuses a short HMAC key', () => {
    assert.match(
      configError({ ...valid, PATIENT_ID_HMAC_KEY: 'secret' }),
      /PATIENT_ID_HMAC_KEY must be at least 32 bytes/,
    );
  });

  it('lists every missing variable at once', () => {
    const message = configError({});
    for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'PATIENT_ID_HMAC_KEY']) {
      assert.match(message, new RegExp(`${name}:`));
    }
  });

  it('rejects malformed values with the variable name', () => {
    assert.match(
      configError({ ...valid, DATABASE_URL: 'mysql://x' }),
      /DATABASE_URL must be a postgres:\/\/ connection string/,
    );
    assert.match(
      configError({ ...valid, REPORT_LABELER_MAX_MESSAGE_BYTES: 'lots' }),
      /REPORT_LABELER_MAX_MESSAGE_BYTES/,
    );
    assert.match(configError({ ...valid, KAFKA_SSL: 'yes' }), /KAFKA_SSL must be true or false/);
    assert.match(configError({ ...valid, KAFKA_SASL_MECHANISM: 'kerberos' }), /KAFKA_SASL_MECHANISM must be/);
  });

  it('builds TLS and SASL/SCRAM options, and needs credentials for SASL', () => {
    const c = loadReportLabelerConfig({
      ...valid,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'labeler',
      KAFKA_SASL_PASSWORD: 'pw',
    });
    const conn = kafkaConnectionFromEnv(c);
    assert.equal(conn.ssl, true);
    assert.deepEqual(conn.sasl, { mechanism: 'scram-sha-512', username: 'labeler', password: 'pw' });
    const noUser = loadReportLabelerConfig({ ...valid, KAFKA_SASL_MECHANISM: 'scram-sha-256' });
    assert.throws(() => kafkaConnectionFromEnv(noUser), /needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  it('connects with SASL_SSL as its own principal: SCRAM over TLS with a CA file, refusing what would fail later', () => {
    const ca = path.join(mkdtempSync(path.join(tmpdir(), 'fh-kafka-ca-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const saslSsl = {
      ...valid,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'report-labeler',
      KAFKA_SASL_PASSWORD: 'pw',
    };
    const conn = kafkaConnectionFromEnv(loadReportLabelerConfig(saslSsl));
    assert.deepEqual(conn.ssl, { ca: '-----BEGIN CERTIFICATE-----\n', cert: undefined, key: undefined });
    assert.equal(conn.sasl?.username, 'report-labeler');
    const refused = (env: Record<string, string>) => {
      try {
        kafkaConnectionFromEnv(loadReportLabelerConfig(env));
      } catch (err) {
        assert.equal((err as { expected?: boolean }).expected, true, 'a one-line start-up error');
        return (err as Error).message;
      }
      return assert.fail('expected a refusal');
    };
    assert.match(
      refused({ ...saslSsl, KAFKA_SSL_CA_FILE: `${ca}.missing` }),
      /KAFKA_SSL_CA_FILE=.*ca\.pem\.missing cannot be read \(ENOENT\): set KAFKA_SSL_CA_FILE/,
    );
    assert.match(
      refused({ ...saslSsl, KAFKA_SSL_CERT_FILE: ca }),
      /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/,
    );
    const { KAFKA_SASL_MECHANISM: _m, ...noMechanism } = saslSsl;
    assert.match(refused(noMechanism), /without KAFKA_SASL_MECHANISM: set it to scram-sha-512/);
  });
});
