# One image for api and projector (the command differs). Multi-stage, production dependencies
# only, non-root. The full packaging work is issue 5.
FROM oven/bun:1 AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY db ./db
COPY sql ./sql
COPY api ./api
COPY projector ./projector
# The mock identity provider ships in the image for compose's development setup only.
COPY e2e/mock-idp ./e2e/mock-idp
USER bun
EXPOSE 3000 9101
CMD ["bun", "api/main.ts"]
