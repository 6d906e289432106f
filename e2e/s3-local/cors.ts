// The bucket's CORS rules: the web client (PUBLIC_URL's origin, and any CORS_ORIGINS) posts
// files straight to storage with a presigned POST, and reads the answer. Images shown with <img>
// need none. MinIO (compose) takes the same origins from MINIO_API_CORS_ALLOW_ORIGIN.

const xmlText = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function browserUploadCors(origins: readonly string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${xmlText(o)}</AllowedOrigin>`).join("");
  return `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}
