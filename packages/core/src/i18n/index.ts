export * from './languages';
export * from './catalogue';
export * from './translator';
export * from './format';
