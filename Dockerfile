# syntax=docker/dockerfile:1
# Debian (glibc) base: sharp and argon2 ship prebuilt glibc binaries; alpine (musl) would need rebuilds.
# Node.js 24 LTS (docs/decisions/0006-node-lts.md); CI runs the whole suite on the same major.
# NODE_IMAGE stays an ARG: Cloud Build uses the official image, scripts/image-smoke.sh a stand-in
# built from Debian (debootstrap) and the same Node binary, because no container registry is
# reachable where it runs.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- npm settings shared by the two stages that run npm ----
# --ignore-scripts (below): no install script runs, whatever npm version the base image bundles
# (package.json's allowScripts is honoured by npm 11 only); sharp and argon2 need none, their
# binaries come as per-platform packages. logs-max=0: npm writes no debug log files.
FROM ${NODE_IMAGE} AS npm-base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_LOGS_MAX=0
WORKDIR /app

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM npm-base AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- production dependencies only (no dev, so no PGlite, TypeScript or eslint) ----
FROM npm-base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && rm -rf /root/.npm /tmp/*

# ---- runtime: node_modules + dist, nothing else; npm never runs in this stage, so no npm
# cache, log or install-script leftover can be in the image ----
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX=2: fewer glibc arenas under concurrent sharp decoding (peak RSS 504 → 413 MB
# in the sensor benchmark, docs/performance.md)
ENV NODE_ENV=production \
    PORT=8080 \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the image's built-in unprivileged user (uid 1000); the app writes nothing to disk
USER node
EXPOSE 8080
# node itself is PID 1 (not npm), so Cloud Run's SIGTERM reaches the handler main.ts installs first
CMD ["node", "dist/main.js"]
