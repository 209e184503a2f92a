import type { Catalogue } from '../../catalogue';

export default {} satisfies Catalogue;
