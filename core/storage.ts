import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Config } from "./config.ts";

// Object storage through the S3 API (path style): MinIO in compose, s3rver locally, S3 in
// production. The one place that knows the bucket.

export interface Storage {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  /** The first `bytes` bytes of an object (a ranged GET). */
  head(key: string): Promise<{ size: number } | null>;
  getStart(key: string, bytes: number): Promise<Uint8Array>;
  /** Keys under a prefix last modified before a time. */
  listOlderThan(prefix: string, before: Date): Promise<string[]>;
  /** A presigned POST: the policy pins the exact size and the content type. */
  presignPost(
    key: string,
    contentType: string,
    bytes: number,
    expiresSeconds: number,
  ): Promise<{ url: string; fields: Record<string, string> }>;
  delete(key: string): Promise<void>;
  /** A presigned GET that expires after MEDIA_URL_TTL_SECONDS. */
  url(key: string): Promise<string>;
  close(): void;
}

export function createStorage(config: Config): Storage | null {
  if (!config.S3_ENDPOINT || !config.S3_KEY || !config.S3_SECRET) return null;
  const s3 = new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_KEY, secretAccessKey: config.S3_SECRET },
    // A stuck storage call must fail (and be retried) rather than hold a request or a
    // projector entry forever.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
    maxAttempts: 3,
  });
  // Presigned URLs name the host a browser reaches, which may not be the one the services use
  // (compose: http://minio:9000 inside, http://localhost:9000 outside). Signing sends nothing,
  // so this client only builds URLs.
  const signer =
    config.S3_PUBLIC_ENDPOINT && config.S3_PUBLIC_ENDPOINT !== config.S3_ENDPOINT
      ? new S3Client({
          endpoint: config.S3_PUBLIC_ENDPOINT,
          region: config.S3_REGION,
          forcePathStyle: true,
          credentials: { accessKeyId: config.S3_KEY, secretAccessKey: config.S3_SECRET },
        })
      : s3;
  const Bucket = config.S3_BUCKET;
  return {
    async put(key, body, contentType) {
      await s3.send(
        new PutObjectCommand({
          Bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.byteLength,
        }),
      );
    },
    async get(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      return new Uint8Array(await res.Body!.transformToByteArray());
    },
    async head(key) {
      try {
        const res = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: Number(res.ContentLength ?? 0) };
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) return null;
        throw e;
      }
    },
    async getStart(key, bytes) {
      const res = await s3.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
      return new Uint8Array(await res.Body!.transformToByteArray()).subarray(0, bytes);
    },
    async listOlderThan(prefix, before) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const res = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? [])
          if (o.Key && o.LastModified && o.LastModified < before) out.push(o.Key);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    presignPost: (key, contentType, bytes, expiresSeconds) =>
      createPresignedPost(signer, {
        Bucket,
        Key: key,
        Conditions: [
          // Exactly the declared size: what the quota of pending uploads counted.
          ["content-length-range", bytes, bytes],
          ["eq", "$Content-Type", contentType],
        ],
        Fields: { "Content-Type": contentType },
        Expires: expiresSeconds,
      }),
    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    url: (key) =>
      getSignedUrl(signer, new GetObjectCommand({ Bucket, Key: key }), {
        expiresIn: config.MEDIA_URL_TTL_SECONDS,
      }),
    close: () => s3.destroy(),
  };
}
