# One image for api and projector (compose sets the command). Multi-stage: production
# dependencies only in the runtime image, which runs as the image's non-root `bun` user.
FROM oven/bun:1 AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

# The web client (web/), built to static files that the api serves at /app/.
FROM oven/bun:1 AS web
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY client ./client
COPY web ./web
RUN bun run web:build

FROM oven/bun:1-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY db ./db
COPY sql ./sql
COPY api ./api
COPY projector ./projector
COPY --from=web /app/web/dist ./web/dist
# The seeder runs inside compose (`task seed`). The mock identity provider is not shipped: it
# signs in whoever asks, so only the test image (compose's mock-idp) has it.
COPY perf ./perf
USER bun
EXPOSE 3000 9101
CMD ["bun", "api/main.ts"]

# The test runner of `task test:*`: every dependency and the whole tree (never deployed). The
# integration suites start PostgreSQL and Redis servers of their own (outages, chaos), so the
# image has both; the tree belongs to `bun`, which writes perf/results.
FROM oven/bun:1 AS test
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql redis-server \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY --chown=bun:bun . .
USER bun
CMD ["bun", "run", "test:unit"]
