# One build, one image per deployable (targets below). Production topology: docker-compose.yml.
# Each image holds only its box's production dependencies: scripts/prune-workspaces.mjs copies the
# production closure of the box's workspace out of the full build (package-lock.json read the way
# Node resolves, devDependencies never followed), so the orchestrator and web images carry no SSH
# or WinRM library and no execution activities, and the executor image no web app
# (tests/static/images.test.ts).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY contracts/package.json contracts/
COPY workflows/package.json workflows/
COPY planning/package.json planning/
COPY activities/package.json activities/
COPY orchestrator/package.json orchestrator/
COPY executor-worker/package.json executor-worker/
COPY temporal/package.json temporal/
COPY telemetry/package.json telemetry/
COPY llm/package.json llm/
COPY database/package.json database/
COPY dev/package.json dev/
COPY testkit/package.json testkit/
COPY bench/package.json bench/
COPY tests/package.json tests/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
ENV NEXT_TELEMETRY_DISABLED=1
RUN npx tsc -b && (cd web && npx next build)

# The orchestrator, and the `migrate` job (database/dist/cli.js, a dependency of the orchestrator).
FROM build AS orchestrator-files
RUN node scripts/prune-workspaces.mjs --out /out orchestrator

FROM build AS executor-worker-files
RUN node scripts/prune-workspaces.mjs --out /out executor-worker

FROM build AS web-files
RUN node scripts/prune-workspaces.mjs --out /out web

# The files belong to root: the services (user node) read them and write none of them.
FROM node:20-bookworm-slim AS orchestrator
WORKDIR /app
ENV NODE_ENV=production
COPY --from=orchestrator-files /out /app
ENV API_HOST=0.0.0.0
USER node
EXPOSE 3005
CMD ["node", "orchestrator/dist/main.js"]

# The executor carries the tools local commands may use (ping, traceroute, dig) and bubblewrap, the
# sandbox every local command runs in. Running as `node` (not root) it cannot switch to the
# opsc-sandbox user: the sandbox then runs as `node`, with the key, artifacts and home hidden.
FROM node:20-bookworm-slim AS executor-worker
RUN apt-get update && apt-get install -y --no-install-recommends iputils-ping traceroute dnsutils bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin opsc-sandbox \
    && install -d -o node -g node -m 0750 /var/lib/opsc/artifacts
WORKDIR /app
ENV NODE_ENV=production
COPY --from=executor-worker-files /out /app
ENV EXECUTOR_HEALTH_HOST=0.0.0.0
USER node
EXPOSE 8010
CMD ["node", "executor-worker/dist/main.js"]

# The web app: Next.js's production build behind web/server.js, which tells the API each browser's
# real address. It reaches the orchestrator API only (OPSC_API_URL).
FROM node:20-bookworm-slim AS web
WORKDIR /app
ENV NODE_ENV=production
COPY --from=web-files /out /app
ENV NEXT_TELEMETRY_DISABLED=1
USER node
EXPOSE 3000
CMD ["node", "web/server.js", "--port", "3000", "--hostname", "0.0.0.0"]
