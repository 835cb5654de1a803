// dcmjs ships no type declarations; the tests use this much of it.
declare module 'dcmjs' {
  interface DicomDict {
    dict: Record<string, unknown>;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBufferLike): DicomDict };
      DicomMetaDictionary: { naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown> };
    };
  };
  export default dcmjs;
}
