FROM node:26-bookworm-slim
RUN npm install -g pnpm@12.21.0
WORKDIR /app
COPY . .
# The services run as JavaScript compiled by `pnpm build` (dist/), not through tsx.
RUN pnpm install --frozen-lockfile && pnpm build
USER node
# glibc's malloc: two arenas instead of one per thread, and buffers over 128 KiB (mail
# sources, attachments) mapped on their own and returned to the system when freed, so a
# large mail does not leave the worker's memory high (README, "Memory").
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
CMD ["node", "dist/start-all.mjs"]
