import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { supportedTransferSyntaxes } from '../shared/imaging/transfer-syntax.ts';
import { encodeFileMeta } from '../shared/imaging/file-meta.ts';
import type { Logger } from '../shared/observability/logger.ts';
import type { InstanceIngest } from './ingest.ts';
import type { IncomingInstance, InstanceStore } from './instance-store.ts';
import type { DicomGatewayMetrics } from './metrics.ts';

const { Scp, Dataset } = dimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status } = dimse.constants;
const { CEchoResponse, CStoreResponse } = dimse.responses;
type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;

const VERIFICATION = '1.2.840.10008.1.1';
const STORAGE_PREFIX = '1.2.840.10008.5.1.4.1.1.';
const DICOM_ROOT = '1.2.840.10008.';
const DECODED = new Set(supportedTransferSyntaxes().map((t) => t.uid));
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

export interface ScpSettings {
  aeTitle: string;
  checkCalledAe: boolean;
  allowedCallingAeTitles: ReadonlySet<string>;
  /** Our maximum PDU length (what the sender may send us in one PDU). */
  maxPduLength: number;
}

export interface ScpDeps {
  settings: ScpSettings;
  store: InstanceStore;
  ingest: InstanceIngest;
  metrics: DicomGatewayMetrics;
  logger: Logger;
}

/**
 * The transfer syntax to accept for a storage context: the sender's first proposal the imaging code
 * decodes (so images arrive as they were, without transcoding); else Explicit/Implicit VR Little
 * Endian if proposed; else the sender's first proposal (stored as received, not announced).
 */
export function chooseTransferSyntax(proposed: readonly string[]): string | undefined {
  return proposed.find((ts) => DECODED.has(ts)) ?? proposed[0];
}

/** Storage SOP classes of the standard, and private (non-standard root) classes, which PACS also forward. */
export function isStorageClass(uid: string): boolean {
  return uid.startsWith(STORAGE_PREFIX) || !uid.startsWith(DICOM_ROOT);
}

/** A dcmjs-dimse SCP class bound to the gateway's dependencies (dcmjs-dimse constructs one per association). */
export function gatewayScpClass(deps: ScpDeps): typeof Scp {
  const { settings, store, ingest, metrics, logger } = deps;
  const incomingOf = new WeakMap<CStoreRequest, IncomingInstance>();

  return class GatewayScp extends Scp {
    private association: Association | undefined;
    private readonly peer: string | undefined;

    /** The instance being received, until its C-STORE is handled. */
    private receiving: IncomingInstance | undefined;

    constructor(socket: Socket, opts: ConstructorParameters<typeof Scp>[1]) {
      super(socket, opts);
      this.peer = socket.remoteAddress;
      // a sender that goes away mid-instance leaves nothing behind (it was never acknowledged)
      socket.once('close', () => {
        const partial = this.receiving;
        if (partial && !partial.writableFinished) {
          partial.destroy();
          void store.discard(partial).catch(() => {});
        }
      });
    }

    override associationRequested(association: Association): void {
      this.association = association;
      const calling = association.getCallingAeTitle().trim();
      const called = association.getCalledAeTitle().trim();
      if (settings.checkCalledAe && called !== settings.aeTitle) {
        metrics.associationsRejected.inc({ reason: 'called-ae' });
        logger.warn(
          { calling, called, peer: this.peer },
          `association for AE title ${called} refused: this is ${settings.aeTitle}`,
        );
        this.sendAssociationReject(
          RejectResult.Permanent,
          RejectSource.ServiceUser,
          RejectReason.CalledAeNotRecognized,
        );
        return;
      }
      if (settings.allowedCallingAeTitles.size > 0 && !settings.allowedCallingAeTitles.has(calling)) {
        metrics.associationsRejected.inc({ reason: 'calling-ae' });
        logger.warn(
          { calling, peer: this.peer },
          'association refused: calling AE title not in DICOM_GATEWAY_ALLOWED_CALLING_AE_TITLES',
        );
        this.sendAssociationReject(
          RejectResult.Permanent,
          RejectSource.ServiceUser,
          RejectReason.CallingAeNotRecognized,
        );
        return;
      }
      association.setMaxPduLength(settings.maxPduLength);
      for (const c of association.getPresentationContexts()) {
        const context = association.getPresentationContext(c.id);
        const abstract = context.getAbstractSyntaxUid();
        const proposed = context.getTransferSyntaxUids();
        if (abstract === VERIFICATION) {
          const ts = proposed.find((t) => t === IMPLICIT_LE || t === EXPLICIT_LE);
          if (ts) context.setResult(PresentationContextResult.Accept, ts);
          else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        } else if (isStorageClass(abstract)) {
          const ts = chooseTransferSyntax(proposed);
          if (ts) context.setResult(PresentationContextResult.Accept, ts);
          else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        } else {
          context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        }
      }
      logger.debug({ calling, peer: this.peer }, 'association accepted');
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(
      request: CEchoRequest,
      callback: (response: InstanceType<typeof CEchoResponse>) => void,
    ): void {
      metrics.echoes.inc();
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    }

    override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
      const incoming = store.incoming(
        encodeFileMeta({
          sopClassUid: request.getAffectedSopClassUid(),
          sopInstanceUid: request.getAffectedSopInstanceUid(),
          transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? EXPLICIT_LE,
          sourceAeTitle: this.association?.getCallingAeTitle().trim(),
        }),
      );
      incomingOf.set(request, incoming);
      this.receiving = incoming;
      return incoming;
    }

    override createDatasetFromStoreWritableStream(
      writable: Writable,
      context: PresentationContext,
      callback: (dataset: InstanceType<typeof Dataset>) => void,
    ): void {
      // the instance is handled from its file in cStoreRequest: pass an empty dataset, not a parsed copy
      const done = () => callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
      if (writable.writableFinished) done();
      else {
        writable.once('finish', done);
        writable.once('error', done);
      }
    }

    override cStoreRequest(
      request: CStoreRequest,
      callback: (response: InstanceType<typeof CStoreResponse>) => void,
    ): void {
      const incoming = incomingOf.get(request);
      const respond = (status: number, comment?: string) => {
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(status);
        if (comment) response.setErrorComment(comment);
        callback(response);
      };
      if (!incoming) {
        respond(Status.ProcessingFailure, 'no data received');
        return;
      }
      this.receiving = undefined;
      ingest.ingest(incoming, request.getAffectedSopInstanceUid()).then(
        (result) => respond(result.status, result.comment),
        (err: Error) => {
          logger.error({ err: err.message }, 'C-STORE handling failed');
          respond(Status.ProcessingFailure, err.message.slice(0, 64));
        },
      );
    }

    override abort(): void {
      logger.debug({ peer: this.peer }, 'association aborted by the sender');
    }
  };
}
