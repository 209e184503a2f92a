import type { Catalogue } from '../../catalogue';

export default {
  optIn: 'オプトイン | 参加する | 登録する',
  optOut: 'オプトアウト | 退会 | 退会する',
  unsubscribe: '配信停止 | 購読解除 | 登録解除 | ストップ',
  help: 'ヘルプ | コマンド | 使い方',
  digest: 'ダイジェスト | まとめ',
  'digest.hourly': '毎時 | 1時間ごと',
  'digest.daily': '毎日 | 日次',
  'digest.weekly': '毎週 | 週次',
  'digest.off': 'オフ | なし | 停止',
  like: 'いいね',
} satisfies Catalogue;
