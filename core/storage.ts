import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Config } from "./config.ts";

// Object storage through the S3 API (path style): MinIO in compose, s3rver locally, S3 in
// production. The one place that knows the bucket.

export interface Storage {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array>;
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
    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    url: (key) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: key }), {
        expiresIn: config.MEDIA_URL_TTL_SECONDS,
      }),
    close: () => s3.destroy(),
  };
}
