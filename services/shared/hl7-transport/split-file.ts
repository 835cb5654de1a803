/**
 * Splits an HL7 archive file into raw messages, keeping each message's bytes as they are (no
 * decoding: MSH-18 may differ per message). A message starts at each "MSH" that begins a line;
 * MLLP framing bytes and blank lines between messages are dropped. Segments inside a message are
 * normalised to CR, HL7's segment terminator.
 */
export function splitHl7File(data: Buffer): Buffer[] {
  const text = data.toString('latin1'); // 1 byte = 1 char, so offsets map back to bytes
  const starts: number[] = [];
  // eslint-disable-next-line no-control-regex -- MLLP start-of-block (VT) may precede MSH
  const re = /(^|[\r\n\x0b])MSH/g;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + m[1]!.length);
  const messages: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    const chunk = text.slice(starts[i], starts[i + 1] ?? text.length);
    const segments = chunk
      // eslint-disable-next-line no-control-regex -- MLLP framing bytes (VT, FS)
      .replace(/[\x0b\x1c]/g, '')
      .split(/\r\n|\r|\n/)
      .filter((s) => s.length > 0);
    messages.push(Buffer.from(segments.join('\r') + '\r', 'latin1'));
  }
  return messages;
}
