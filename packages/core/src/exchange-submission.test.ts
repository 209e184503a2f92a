import { describe, expect, it } from 'vitest';
import { exchangeInternalSubmission } from './exchange-submission';

const EXO_RECEIVED = 'from PA4PR02MB6771.eurprd02.prod.outlook.com (2603:10a6:102:f1::9) by DB9PR02MB6604.eurprd02.prod.outlook.com with HTTPS; Mon, 2 Nov 2026 09:40:14 +0000';
const POSTFIX_RECEIVED = 'from mail.attacker.example (mail.attacker.example [198.51.100.7]) by mx.corp.test (Postfix) with ESMTPS id 4Xk2; Mon, 2 Nov 2026 09:40:14 +0000';
const internal = {
  received: [EXO_RECEIVED],
  'x-ms-exchange-organization-authas': ['Internal'],
  'x-ms-exchange-organization-authsource': ['PA4PR02MB6771.eurprd02.prod.outlook.com'],
};

describe('exchangeInternalSubmission', () => {
  it.each<[string, Record<string, string[]>, boolean]>([
    ['a colleague in the tenant (AuthAs Internal, Exchange Online hosts)', internal, true],
    ['the same in the 21Vianet cloud', { ...internal, received: [EXO_RECEIVED.replace(/prod\.outlook\.com/g, 'prod.partner.outlook.cn')], 'x-ms-exchange-organization-authsource': ['BJSPR01MB0001.chnpr01.prod.partner.outlook.cn'] }, true],
    ['mail from the Internet (AuthAs Anonymous)', { ...internal, 'x-ms-exchange-organization-authas': ['Anonymous'] }, false],
    ['a partner connector (AuthAs Partner)', { ...internal, 'x-ms-exchange-organization-authas': ['Partner'] }, false],
    ['no AuthAs header', { received: [EXO_RECEIVED] }, false],
    ['two AuthAs headers (one of them the sender\'s)', { ...internal, 'x-ms-exchange-organization-authas': ['Internal', 'Anonymous'] }, false],
    ['an AuthSource that is not Exchange Online', { ...internal, 'x-ms-exchange-organization-authsource': ['mx.attacker.example'] }, false],
    ['a look-alike AuthSource', { ...internal, 'x-ms-exchange-organization-authsource': ['x.prod.outlook.com.attacker.example'] }, false],
    ['headers written by the sender, in a mailbox on another server', { ...internal, received: [POSTFIX_RECEIVED, EXO_RECEIVED] }, false],
    ['no Received header at all', { ...internal, received: [] }, false],
    ['a Received whose `by` names Exchange only in a comment', { ...internal, received: ['from a (b.prod.outlook.com) by mx.corp.test (x.prod.outlook.com) with ESMTP'] }, false],
  ])('%s -> %s', (_what, headers, expected) => {
    expect(exchangeInternalSubmission(headers)).toBe(expected);
  });
});
