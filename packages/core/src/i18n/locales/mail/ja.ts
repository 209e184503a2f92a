import type { Catalogue } from '../../catalogue';

export default {
  'footer.sentBy': 'Blend（メールと社内フィードをつなぐサービス）から送信されました。',
  'footer.preferences': '設定',
  'footer.unsubscribe': '配信停止',
} satisfies Catalogue;
