FROM node:20-bookworm-slim
RUN npm install -g pnpm@12.21.0
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile
USER node
ENV NODE_ENV=production
CMD ["pnpm", "start"]
