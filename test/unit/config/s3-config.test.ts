import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDicomGatewayConfig } from '../../../services/dicom-gateway/config.ts';
import { ConfigError } from '../../../services/shared/config/env.ts';
import { loadS3Settings, parseS3Uri, s3Uri } from '../../../services/shared/storage/s3-config.ts';

const gatewayEnv = {
  KAFKA_BROKERS: 'localhost:9092',
  SCHEMA_REGISTRY_URL: 'http://localhost:8080/apis/ccompat/v7',
};

describe('S3 settings from the environment', () => {
  it('are absent when no region or endpoint is set (s3:// then reads as not configured)', () => {
    assert.equal(loadS3Settings({}), null);
    assert.equal(loadS3Settings({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }), null);
  });

  it('for AWS S3: the region, virtual-hosted addressing, the SDK credential chain when no keys are given', () => {
    const s = loadS3Settings({ AWS_REGION: 'eu-west-3' })!;
    assert.equal(s.region, 'eu-west-3');
    assert.equal(s.endpoint, undefined);
    assert.equal(s.forcePathStyle, false);
    assert.equal(s.credentials, undefined);
  });

  it('for MinIO/Ceph: path-style by default with an endpoint, region us-east-1 unless set, explicit keys', () => {
    const s = loadS3Settings({
      S3_ENDPOINT: 'http://minio:9000',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_SESSION_TOKEN: 't',
    })!;
    assert.equal(s.forcePathStyle, true);
    assert.equal(s.region, 'us-east-1');
    assert.deepEqual(s.credentials, { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' });
    assert.equal(
      loadS3Settings({ S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'false' })!.forcePathStyle,
      false,
    );
    assert.equal(
      loadS3Settings({ S3_ENDPOINT: 'http://x', S3_REGION: 'r1', AWS_REGION: 'r2' })!.region,
      'r1',
    );
  });

  it('a key without its secret, or an endpoint that is not a URL, stops the service naming the variable', () => {
    assert.throws(
      () => loadS3Settings({ S3_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'k' }),
      (err: unknown) => err instanceof ConfigError && /AWS_SECRET_ACCESS_KEY: set both/.test(err.message),
    );
    assert.throws(
      () => loadS3Settings({ S3_ENDPOINT: 'minio:9000' }),
      (err: unknown) =>
        err instanceof ConfigError && /S3_ENDPOINT must be an http\(s\) URL/.test(err.message),
    );
    assert.throws(
      () => loadS3Settings({ S3_ENDPOINT: 'http://m', S3_FORCE_PATH_STYLE: 'yes' }),
      (err: unknown) =>
        err instanceof ConfigError && /S3_FORCE_PATH_STYLE must be true or false/.test(err.message),
    );
  });
});

describe('s3:// URIs', () => {
  it('split into bucket and key, and are made back from them', () => {
    assert.deepEqual(parseS3Uri('s3://fh-images/gw/1.2.3/1.2.3.4.dcm'), {
      bucket: 'fh-images',
      key: 'gw/1.2.3/1.2.3.4.dcm',
    });
    assert.equal(s3Uri('fh-images', 'gw/a b/1.dcm'), 's3://fh-images/gw/a%20b/1.dcm');
    assert.deepEqual(parseS3Uri(s3Uri('fh-images', 'gw/a b/1.dcm')), {
      bucket: 'fh-images',
      key: 'gw/a b/1.dcm',
    });
  });

  it('refuse a host that is not a bucket name', () => {
    assert.throws(() => parseS3Uri('s3://Not_A_Bucket/x'), /not an S3 bucket name/);
    assert.throws(() => parseS3Uri('file:///tmp/x'), /not an s3:\/\/ URI/);
  });
});

describe('dicom-gateway store settings', () => {
  it('a path stays a file:// store with no S3 settings', () => {
    const c = loadDicomGatewayConfig({ ...gatewayEnv, DICOM_GATEWAY_STORE_URI: '/data/dicom' });
    assert.equal(c.DICOM_GATEWAY_STORE_URI, 'file:///data/dicom');
    assert.equal(c.s3, null);
  });

  it('an s3:// store carries the S3 settings', () => {
    const c = loadDicomGatewayConfig({
      ...gatewayEnv,
      DICOM_GATEWAY_STORE_URI: 's3://fh-dicom/gateway',
      S3_ENDPOINT: 'http://minio:9000',
    });
    assert.equal(c.DICOM_GATEWAY_STORE_URI, 's3://fh-dicom/gateway');
    assert.equal(c.s3?.endpoint, 'http://minio:9000');
  });

  it('an s3:// store without S3 settings, or with a bad bucket name, stops the gateway saying what to set', () => {
    assert.throws(
      () => loadDicomGatewayConfig({ ...gatewayEnv, DICOM_GATEWAY_STORE_URI: 's3://fh-dicom/gateway' }),
      (err: unknown) =>
        err instanceof ConfigError && /S3 is not configured: set S3_REGION .*S3_ENDPOINT/.test(err.message),
    );
    assert.throws(
      () =>
        loadDicomGatewayConfig({
          ...gatewayEnv,
          DICOM_GATEWAY_STORE_URI: 's3://x/gw',
          S3_REGION: 'eu-west-1',
        }),
      (err: unknown) =>
        err instanceof ConfigError && /DICOM_GATEWAY_STORE_URI: "x" is not an S3 bucket/.test(err.message),
    );
    assert.throws(
      () => loadDicomGatewayConfig({ ...gatewayEnv, DICOM_GATEWAY_STORE_URI: 'ftp://host/dicom' }),
      (err: unknown) =>
        err instanceof ConfigError && /DICOM_GATEWAY_STORE_URI must be a path/.test(err.message),
    );
  });
});
