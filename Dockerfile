# One image for all three services and the `blend` command (README.md, "Docker quick start").
#
#   docker build -t blend .
#   docker run --rm blend blend --help
#
# BASE defaults to the official Node.js 26 image. Where no container registry can be reached,
# build a stand-in from Debian's and npm's packages with deploy/base/build-base.sh and pass
# --build-arg BASE=blend-base:26-bookworm-slim.
ARG BASE=node:26-bookworm-slim

# ---------------------------------------------------------------------------- build
# Everything, dev dependencies included; `pnpm build` compiles the services into dist/.
FROM ${BASE} AS build
RUN npm install -g --silent pnpm@12.21.0
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
# Production dependencies only: node_modules made afresh from the lockfile, offline from the
# store the first install filled (pruning in place leaves the dev packages in the store
# directory). dist/ imports third-party packages by their path in /app/node_modules
# (scripts/build.ts), so the new tree is at the same place, and every path the programs import
# is checked to be there.
RUN rm -rf node_modules packages/*/node_modules services/*/node_modules \
 && CI=true pnpm install --prod --frozen-lockfile --offline \
 && node -e " \
      const fs = require('node:fs'); const bad = []; let n = 0; \
      for (const f of fs.readdirSync('dist').filter((n) => n.endsWith('.mjs'))) \
        for (const m of fs.readFileSync('dist/' + f, 'utf8').matchAll(/[\"'](\/app\/node_modules\/[^\"']+)[\"']/g)) \
          { n++; if (!fs.existsSync(m[1])) bad.push(f + ': ' + m[1]); } \
      if (n === 0) { console.error('dist/ imports nothing from /app/node_modules: was it built in /app?'); process.exit(1); } \
      if (bad.length) { console.error('missing after pruning:\n' + bad.join('\n')); process.exit(1); } \
      console.log('dist/ imports ' + n + ' paths from node_modules, all present');" \
 && chmod 0755 dist/blend.mjs

# ---------------------------------------------------------------------------- production
FROM ${BASE} AS production
# tini as PID 1: forwards SIGTERM to the service, which drains and exits (runService in
# packages/runtime/src/run-service.ts), and reaps any orphaned child.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/dist ./dist
# `blend people add …` inside the container (docker compose exec api blend …).
RUN ln -s /app/dist/blend.mjs /usr/local/bin/blend
# glibc's malloc: two arenas instead of one per thread, and buffers over 128 KiB (mail
# sources, attachments) mapped on their own and returned to the system when freed, so a
# large mail does not leave the worker's memory high (README, "Memory").
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
# The image's files belong to root and cannot be changed by the services, which run as the
# unprivileged `node` user (uid 1000) of the base image.
USER 1000:1000
# api 3000 (PORT), worker 3001 and poller 3002 (BLEND_*_HEALTH_PORT): /healthz, /readyz,
# /metrics. Set BLEND_HEALTH_HOST=0.0.0.0 (and HOST=0.0.0.0 for the API) so that probes from
# outside the container reach them.
EXPOSE 3000 3001 3002
# Which service this container runs decides the port to ask; BLEND_HEALTHCHECK_PORT names it
# (docker-compose.yml sets it per service), the API's PORT otherwise.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BLEND_HEALTHCHECK_PORT || process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/start-all.mjs"]
