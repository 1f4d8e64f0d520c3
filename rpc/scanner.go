package rpc

import (
	"bytes"
	"encoding/binary"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// scanner is a small, strict, streaming XML tokenizer for the subset of XML
// that XML-RPC uses: elements (attributes are parsed and ignored, namespace
// prefixes are kept in the name), character data with the five predefined
// entities and character references, CDATA sections, comments and processing
// instructions (both skipped).
//
// It refuses every DOCTYPE or other <!...> declaration outright, so entity
// expansion attacks (billion laughs, quadratic blowup) and external entities
// (XXE) cannot happen. It checks that end tags match their start tags,
// rejects characters XML 1.0 forbids and invalid UTF-8, and normalizes line
// ends (\r\n and \r to \n) as XML requires.
//
// Character data is collected with bulk copies between markup, so long strings
// decode at memory speed rather than byte by byte.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	base int64 // input offset of buf[0]
	rerr error // sticky error from r (io.EOF at the end)

	text       []byte // character data of the last tokText
	name       []byte // name of the last tokStart or tokEnd
	pendingEnd bool   // the last start tag was self-closing: the next token is its end
	nextLT     finder // where the next '<' and '&' are, so that long text
	nextAmp    finder // with many references is not rescanned (quadratic)
	open       []byte // names of the open elements, back to back
	openEnds   []int  // end offset in open of each open element's name
	sawRoot    bool

	size     int64 // length of the whole input if known, else -1
	fullRead bool  // the last read filled buf: grow it (up to scanBufSize)

	// owned: buf is the whole input (r == nil) and the caller never
	// reuses it, so a long text free of references is handed out in place.
	// aliasAt is the start of the last such text (for takeText).
	owned   bool
	aliasAt *byte
	minTake int // shortest text handed over without a copy; 0: minTakeText (tests lower it)
}

type token int

const (
	tokEOF token = iota
	tokStart
	tokEnd
	tokText
)

const (
	scanBufSize    = 64 << 10 // the read buffer grows up to this while reads fill it
	scanBufInitial = 4 << 10  // most documents are small: start here
	maxNameLen     = 1024
	maxOpen        = 1 << 16 // open elements; the grammar stops far earlier (Limits.MaxDepth)
)

// newScanner returns a scanner reading r; a nil r leaves buf to the caller.
// size is the input's length if known (Content-Length), else -1: it sizes
// the read buffer, and long texts are allocated once for what can remain
// of the input instead of by doubling.
func newScanner(r io.Reader, size int64) *scanner {
	s := &scanner{r: r, nextLT: finder{at: -1}, nextAmp: finder{at: -1}, size: -1}
	if r != nil {
		n := scanBufInitial
		if size >= 0 {
			s.size = size
			n = int(min(max(size+1, 512), scanBufSize)) // +1: the read that sees EOF
		}
		s.buf = make([]byte, n)
	}
	return s
}

// finder caches a search for one byte, in absolute input offsets: at is
// where it was found (-1: not found in [.., until)).
type finder struct {
	at, until int64
}

// find returns the index of the first c in buf[pos:end], or -1.
func (s *scanner) find(f *finder, c byte) int {
	pos, end := s.base+int64(s.pos), s.base+int64(s.end)
	if f.at >= pos {
		if f.at < end {
			return int(f.at - pos)
		}
		f.at = -1 // found beyond a shrunken window: cannot happen, but rescan
	}
	from := pos
	if f.at < 0 && f.until > pos {
		from = f.until
	}
	i := bytes.IndexByte(s.buf[from-s.base:s.end], c)
	if i < 0 {
		f.at, f.until = -1, end
		return -1
	}
	f.at = from + int64(i)
	return int(f.at - pos)
}

func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

func (s *scanner) syntax(msg string) error { return s.syntaxAt(s.offset(), msg) }

func (s *scanner) syntaxAt(off int64, msg string) error {
	return &codecError{code: CodeParse, msg: "xml syntax error at byte " + strconv.FormatInt(off, 10) + ": " + msg}
}

// fill makes at least n bytes available at buf[pos:end]. It returns false if
// the input ends (or fails) first; s.rerr then says why.
func (s *scanner) fill(n int) bool {
	zeroReads := 0
	for s.end-s.pos < n {
		if s.rerr != nil {
			return false
		}
		if s.pos > 0 {
			copy(s.buf, s.buf[s.pos:s.end])
			s.base += int64(s.pos)
			s.end -= s.pos
			s.pos = 0
		}
		if n > len(s.buf) || s.fullRead && len(s.buf) < scanBufSize {
			nb := make([]byte, max(n, 2*len(s.buf)))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
		m, err := s.r.Read(s.buf[s.end:])
		s.fullRead = s.end+m == len(s.buf)
		s.end += m
		if err != nil {
			s.rerr = err
		} else if m == 0 {
			if zeroReads++; zeroReads > 100 {
				s.rerr = io.ErrNoProgress
			}
		}
	}
	return true
}

// readErr turns the sticky read error into the error to return: nil at a
// clean EOF, a *codecError wrapping anything else.
func (s *scanner) readErr() error {
	if s.rerr == nil || s.rerr == io.EOF {
		return nil
	}
	return &codecError{code: CodeParse, msg: "read body: " + s.rerr.Error(), err: s.rerr}
}

// next returns the next token. For tokText, s.text holds the decoded
// character data (never empty; CDATA, references and text around comments are
// joined). For tokStart and tokEnd, s.name holds the element name.
func (s *scanner) next() (token, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		s.pop()
		return tokEnd, nil
	}
	if s.aliasAt != nil && unsafe.SliceData(s.text) == s.aliasAt {
		s.text = nil // never append into the input
	} else {
		s.text = s.text[:0]
	}
	for {
		if s.pos >= s.end && !s.fill(1) {
			if err := s.readErr(); err != nil {
				return 0, err
			}
			if len(s.openEnds) > 0 {
				return 0, s.syntax("unexpected end of input inside <" + string(s.top()) + ">")
			}
			if len(s.text) > 0 {
				return tokText, nil
			}
			return tokEOF, nil
		}
		if s.buf[s.pos] != '<' {
			if err := s.textRun(); err != nil {
				return 0, err
			}
			continue
		}
		s.fill(9)
		rest := s.buf[s.pos:s.end]
		switch {
		case len(rest) > 1 && rest[1] != '!' && rest[1] != '?':
			// an element tag: the common case
		case bytes.HasPrefix(rest, []byte("<!--")):
			s.pos += 4
			if err := s.skipPast("-->"); err != nil {
				return 0, err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(s.openEnds) == 0 {
				return 0, s.syntax("CDATA outside the root element")
			}
			s.pos += 9
			if err := s.cdata(); err != nil {
				return 0, err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<?")):
			s.pos += 2
			if err := s.skipPast("?>"); err != nil {
				return 0, err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<!")):
			return 0, s.syntax("DOCTYPE and other declarations are not allowed")
		}
		if len(s.text) > 0 {
			if len(s.openEnds) == 0 && !isSpace(s.text) {
				return 0, s.syntax("text outside the root element")
			}
			return tokText, nil
		}
		if len(rest) > 1 && rest[1] == '/' {
			return tokEnd, s.endTag()
		}
		return tokStart, s.startTag()
	}
}

func (s *scanner) top() []byte {
	n := len(s.openEnds)
	start := 0
	if n > 1 {
		start = s.openEnds[n-2]
	}
	return s.open[start:s.openEnds[n-1]]
}

func (s *scanner) pop() {
	s.openEnds = s.openEnds[:len(s.openEnds)-1]
	if n := len(s.openEnds); n > 0 {
		s.open = s.open[:s.openEnds[n-1]]
	} else {
		s.open = s.open[:0]
	}
}

// readName reads an XML name at pos into s.name.
func (s *scanner) readName() error {
	s.name = s.name[:0]
	// Fast path: the whole name is in the buffer.
	b := s.buf[s.pos:s.end]
	i := 0
	for i < len(b) && i <= maxNameLen && nameByte[b[i]] {
		i++
	}
	if i < len(b) && i > 0 && i <= maxNameLen && b[0] < 0x80 {
		if c := b[i]; c == '>' || c == '/' || c == '=' || isSpaceByte(c) {
			if c := b[0]; c == '-' || c == '.' || (c >= '0' && c <= '9') || c == ':' {
				s.pos += i // as the slow path below: the error is at the end of the name
				return s.syntax("invalid name " + strconv.Quote(string(b[:i])))
			}
			s.name = append(s.name, b[:i]...)
			s.pos += i
			return nil
		}
	}
	for {
		if s.pos >= s.end && !s.fill(1) {
			if err := s.readErr(); err != nil {
				return err
			}
			return s.syntax("unexpected end of input in a tag")
		}
		c := s.buf[s.pos]
		if c == '>' || c == '/' || c == '=' || isSpaceByte(c) {
			break
		}
		if c == '<' || c == '&' || c == '"' || c == '\'' || c < 0x20 {
			return s.syntax("invalid character " + strconv.QuoteRune(rune(c)) + " in a name")
		}
		s.name = append(s.name, c)
		s.pos++
		if len(s.name) > maxNameLen {
			return s.syntax("name too long")
		}
	}
	if len(s.name) == 0 {
		return s.syntax("missing name")
	}
	if c := s.name[0]; c == '-' || c == '.' || (c >= '0' && c <= '9') || c == ':' {
		return s.syntax("invalid name " + strconv.Quote(string(s.name)))
	}
	if !utf8.Valid(s.name) {
		return s.syntax("invalid UTF-8 in a name")
	}
	return nil
}

// peek returns the byte at pos without consuming it.
func (s *scanner) peek() (byte, error) {
	if s.pos >= s.end && !s.fill(1) {
		if err := s.readErr(); err != nil {
			return 0, err
		}
		return 0, s.syntax("unexpected end of input in a tag")
	}
	return s.buf[s.pos], nil
}

func (s *scanner) skipSpaceInTag() (byte, error) {
	for {
		c, err := s.peek()
		if err != nil || !isSpaceByte(c) {
			return c, err
		}
		s.pos++
	}
}

func (s *scanner) startTag() error {
	if len(s.openEnds) == 0 && s.sawRoot {
		return s.syntax("more than one root element")
	}
	s.pos++ // '<'
	if err := s.readName(); err != nil {
		return err
	}
	for {
		c, err := s.skipSpaceInTag()
		if err != nil {
			return err
		}
		switch c {
		case '>':
			s.pos++
			return s.push()
		case '/':
			s.pos++
			if c, err = s.peek(); err != nil {
				return err
			}
			if c != '>' {
				return s.syntax("expected > after /")
			}
			s.pos++
			s.pendingEnd = true
			return s.push()
		}
		// An attribute: name = "value". Its name goes to a scratch copy.
		elem := append([]byte(nil), s.name...)
		if err := s.readName(); err != nil {
			return err
		}
		s.name = elem
		if c, err = s.skipSpaceInTag(); err != nil {
			return err
		}
		if c != '=' {
			return s.syntax("expected = after an attribute name")
		}
		s.pos++
		if c, err = s.skipSpaceInTag(); err != nil {
			return err
		}
		if c != '"' && c != '\'' {
			return s.syntax("attribute value not quoted")
		}
		s.pos++
		for {
			d, err := s.peek()
			if err != nil {
				return err
			}
			s.pos++
			if d == c {
				break
			}
			if d == '<' {
				return s.syntax("< in an attribute value")
			}
		}
	}
}

func (s *scanner) push() error {
	if len(s.openEnds) >= maxOpen {
		return &codecError{code: CodeInvalidRequest, msg: "elements nested too deeply"}
	}
	s.sawRoot = true
	s.open = append(s.open, s.name...)
	s.openEnds = append(s.openEnds, len(s.open))
	return nil
}

func (s *scanner) endTag() error {
	s.pos += 2 // "</"
	if err := s.readName(); err != nil {
		return err
	}
	c, err := s.skipSpaceInTag()
	if err != nil {
		return err
	}
	if c != '>' {
		return s.syntax("expected > in an end tag")
	}
	s.pos++
	if len(s.openEnds) == 0 {
		return s.syntax("unexpected end tag </" + string(s.name) + ">")
	}
	if !bytes.Equal(s.top(), s.name) {
		return s.syntax("element <" + string(s.top()) + "> closed by </" + string(s.name) + ">")
	}
	s.pop()
	return nil
}

// skipPast consumes input up to and including delim.
func (s *scanner) skipPast(delim string) error {
	for {
		if i := bytes.Index(s.buf[s.pos:s.end], []byte(delim)); i >= 0 {
			s.pos += i + len(delim)
			return nil
		}
		if keep := len(delim) - 1; s.end-s.pos > keep {
			s.pos = s.end - keep
		}
		if !s.fill(s.end - s.pos + 1) {
			if err := s.readErr(); err != nil {
				return err
			}
			return s.syntax("unexpected end of input, want " + delim)
		}
	}
}

// cdata appends a CDATA section's content (after "<![CDATA[") to s.text.
func (s *scanner) cdata() error {
	start, off := len(s.text), s.offset()
	for {
		if i := bytes.Index(s.buf[s.pos:s.end], []byte("]]>")); i >= 0 {
			s.appendText(s.buf[s.pos : s.pos+i])
			s.pos += i + 3
			return s.checkChars(start, off)
		}
		if n := s.end - s.pos - 2; n > 0 {
			s.appendText(s.buf[s.pos : s.pos+n])
			s.pos += n
		}
		if !s.fill(s.end - s.pos + 1) {
			if err := s.readErr(); err != nil {
				return err
			}
			return s.syntax("unexpected end of input in CDATA")
		}
	}
}

// textRun appends character data at pos up to the next '<' (or the end of the
// buffered input) to s.text, resolving references on the way.
func (s *scanner) textRun() error {
	for s.pos < s.end && s.buf[s.pos] != '<' {
		b := s.buf[s.pos:s.end]
		if i := s.find(&s.nextLT, '<'); i >= 0 {
			b = b[:i]
		}
		amp := s.find(&s.nextAmp, '&')
		if amp >= 0 && amp < len(b) {
			b = b[:amp]
		} else {
			amp = -1
		}
		// A long text that is one run without references, in an input the
		// caller handed over for good, is used where it lies.
		inPlace := s.owned && amp < 0 && len(s.text) == 0 && len(b) > 0 && len(b) >= s.minTakeLen()
		if s.r == nil && !inPlace {
			// The whole body is in memory, so the text up to the next '<'
			// is known: allocate for it once (references only shrink it).
			n := s.end - s.pos
			if i := s.find(&s.nextLT, '<'); i >= 0 {
				n = i
			}
			s.growText(n)
		}
		if amp < 0 && s.pos+len(b) == s.end && s.rerr == nil {
			// The run reaches the end of the buffer: leave a trailing \r (it may
			// start \r\n) or an incomplete UTF-8 sequence for the next fill.
			cut := len(b)
			if b[cut-1] == '\r' {
				cut--
			} else {
				for k := 1; k <= 3 && k <= cut; k++ {
					if c := b[cut-k]; c >= 0xC0 {
						if !utf8.FullRune(b[cut-k:]) {
							cut -= k
						}
						break
					} else if c < 0x80 {
						break
					}
				}
			}
			if cut == 0 {
				s.fill(s.end - s.pos + 1)
				return nil
			}
			b = b[:cut]
		}
		if len(s.openEnds) == 0 && !isSpace(b) {
			i := 0
			for isSpaceByte(b[i]) {
				i++
			}
			return s.syntaxAt(s.offset()+int64(i), "text outside the root element")
		}
		if inPlace {
			off := s.offset()
			s.text = b[:len(b):len(b)] // appending must copy, never write into the input
			s.aliasAt = &b[0]
			s.pos += len(b)
			return s.checkChars(0, off) // normalizes line ends in place, in consumed input
		}
		if len(b) > 0 {
			start, off := len(s.text), s.offset()
			s.appendText(b)
			s.pos += len(b)
			if err := s.checkChars(start, off); err != nil {
				return err
			}
		}
		if amp < 0 {
			return nil
		}
		// The three references escaping produces, inline; others in reference.
		if r := s.buf[s.pos:s.end]; len(r) >= 5 {
			switch {
			case r[1] == 'l' && r[2] == 't' && r[3] == ';':
				s.text = append(s.text, '<')
				s.pos += 4
				continue
			case r[1] == 'g' && r[2] == 't' && r[3] == ';':
				s.text = append(s.text, '>')
				s.pos += 4
				continue
			case r[1] == 'a' && r[2] == 'm' && r[3] == 'p' && r[4] == ';':
				s.text = append(s.text, '&')
				s.pos += 5
				continue
			}
		}
		if err := s.reference(); err != nil {
			return err
		}
	}
	return nil
}

// checkChars validates s.text[start:] (characters XML allows, valid UTF-8)
// and normalizes its line ends in place. off is the input offset of
// s.text[start], for errors.
func (s *scanner) checkChars(start int, off int64) error {
	t := s.text[start:]
	i := 0
	w := -1 // write index once a \r\n has been shortened
	for i < len(t) {
		if w < 0 {
			// Skip 8 plain ASCII bytes at a time.
			for i+8 <= len(t) {
				x := binary.LittleEndian.Uint64(t[i:])
				if x&hi8 != 0 || (x-lo8*0x20)&^x&hi8 != 0 {
					break
				}
				i += 8
			}
			if i >= len(t) {
				break
			}
		}
		c := t[i]
		if c >= 0x20 && c < 0x80 {
			if w >= 0 {
				t[w] = c
				w++
			}
			i++
			continue
		}
		switch {
		case c == '\t' || c == '\n':
			if w >= 0 {
				t[w] = c
				w++
			}
			i++
		case c == '\r':
			if w < 0 {
				w = i
			}
			t[w] = '\n'
			w++
			i++
			if i < len(t) && t[i] == '\n' {
				i++
			}
		case c < 0x20:
			return s.syntaxAt(off+int64(i), "character U+"+strconv.FormatInt(int64(c), 16)+" not allowed in XML")
		default:
			r, size := utf8.DecodeRune(t[i:])
			if r == utf8.RuneError && size == 1 {
				return s.syntaxAt(off+int64(i), "invalid UTF-8")
			}
			if r == 0xFFFE || r == 0xFFFF {
				return s.syntaxAt(off+int64(i), "character "+strconv.QuoteRune(r)+" not allowed in XML")
			}
			if w >= 0 {
				copy(t[w:], t[i:i+size])
				w += size
			}
			i += size
		}
	}
	if w >= 0 {
		s.text = s.text[:start+w]
	}
	return nil
}

// reference resolves the entity or character reference at pos ('&').
func (s *scanner) reference() error {
	s.fill(16)
	b := s.buf[s.pos+1 : s.end]
	semi := bytes.IndexByte(b[:min(len(b), 12)], ';')
	if semi < 0 {
		return s.syntax("invalid reference (a bare & must be written &amp;)")
	}
	ref := b[:semi]
	s.pos += semi + 2
	switch string(ref) {
	case "lt":
		s.text = append(s.text, '<')
	case "gt":
		s.text = append(s.text, '>')
	case "amp":
		s.text = append(s.text, '&')
	case "apos":
		s.text = append(s.text, '\'')
	case "quot":
		s.text = append(s.text, '"')
	default:
		if len(ref) < 2 || ref[0] != '#' {
			return s.syntax("unknown entity &" + string(ref) + "; (only the five predefined ones are allowed)")
		}
		var n uint64
		var err error
		if ref[1] == 'x' {
			n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
		} else {
			n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
		}
		if err != nil || !xmlChar(rune(n)) {
			return s.syntax("invalid character reference &" + string(ref) + ";")
		}
		s.text = utf8.AppendRune(s.text, rune(n))
	}
	return nil
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// nameByte marks the ASCII bytes allowed in XML names.
var nameByte = [256]bool{
	'-': true, '.': true, ':': true, '_': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true, 'J': true,
	'K': true, 'L': true, 'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true, 'S': true, 'T': true,
	'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true, 'j': true,
	'k': true, 'l': true, 'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true, 's': true, 't': true,
	'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSpace(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

// appendText appends b (which starts at pos) to s.text. When it must grow:
// a long text of an input of known size is given room for all that can
// remain of the input, so it is allocated once and takeText can hand it
// over; otherwise its capacity doubles (append grows large slices by only
// 1.25x, which copies a long string ~5 times over).
func (s *scanner) appendText(b []byte) {
	if need := len(s.text) + len(b); need > cap(s.text) {
		grow := max(len(b), cap(s.text), 512)
		if s.size >= 0 && need >= 64<<10 {
			left := s.size - s.base - int64(s.end) // not yet read
			if bound := int64(len(s.text)) + int64(s.end-s.pos) + max(left, 0); bound >= int64(need) {
				grow = int(bound) - len(s.text)
			}
		}
		s.growText(grow)
	}
	s.text = append(s.text, b...)
}

// growText makes room for n more bytes in s.text. It allocates with make,
// not append or slices.Grow: those clear a large new array in one call the
// scheduler cannot preempt, which stalls a garbage collection (spinning on
// the other cores) for as long as the clearing page-faults; make clears
// large arrays in preemptible chunks.
func (s *scanner) growText(n int) {
	if cap(s.text)-len(s.text) >= n {
		return
	}
	t := make([]byte, len(s.text), len(s.text)+n)
	copy(t, s.text)
	s.text = t
}

// minTakeText is the shortest text takeText hands over without a copy.
const minTakeText = 64 << 10

func (s *scanner) minTakeLen() int {
	if s.minTake > 0 {
		return s.minTake
	}
	return minTakeText
}

// takeText returns text (a prefix of s.text) as a string. A long text is
// handed over without a copy when nothing will write its bytes again: a
// text used in place in an owned input (never reused by its owner, and the
// scanner never appends into it), or s.text itself, which the scanner then
// replaces with a new buffer.
func (s *scanner) takeText(text []byte) string {
	if len(text) == 0 || len(text) < s.minTakeLen() {
		return string(text)
	}
	if s.aliasAt != nil && unsafe.SliceData(text) == s.aliasAt {
		s.aliasAt = nil
		return unsafe.String(&text[0], len(text))
	}
	if unsafe.SliceData(text) != unsafe.SliceData(s.text) || cap(s.text) > 2*len(text) {
		return string(text)
	}
	s.text = nil
	return unsafe.String(&text[0], len(text))
}
