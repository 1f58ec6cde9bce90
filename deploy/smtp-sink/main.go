// Command premiums-smtp-sink is the local stack's SMTP sink, in Go with the standard library only.
//
// Every message accepted is stored as one file in a Maildir (<maildir>/new/), byte for byte like the Python
// sink it replaces (cli/premiums_cli/stack/smtp_sink.py, still the fallback): "Return-Path: <from>\r\n",
// one "X-Envelope-To: <rcpt>\r\n" per recipient, then the message as received (after dot-unstuffing, line
// endings untouched). A message is written to <maildir>/tmp/ and renamed into <maildir>/new/ before the
// client hears "250", so a reader never sees half a message. There is no fsync: this is a development sink.
//
//	premiums-smtp-sink --host 127.0.0.1 --port 1025 --maildir .local/mail
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	serverName     = "premiums-smtp-sink"
	maxMessage     = 25 * 1024 * 1024 // advertised as SIZE; bigger messages get 552
	maxCommandLine = 4096             // RFC 5321 says 512; SMTPUTF8 addresses and parameters may need more
	maxRecipients  = 1000
	readBuffer     = 64 * 1024
	idleTimeout    = 5 * time.Minute  // between commands
	dataTimeout    = 10 * time.Minute // for the whole DATA phase
	shutdownGrace  = 5 * time.Second  // for sessions in the middle of a message when SIGTERM arrives
	keepBuffer     = 1024 * 1024      // a session keeps its message buffer for the next one up to this size
)

var errLineTooLong = errors.New("line too long")

// ---- the Maildir ------------------------------------------------------------------------------------

type maildir struct {
	root    string
	pid     string
	counter atomic.Uint64
	// mu lets one session at a time create and rename files. Sessions storing at once contend for the
	// directories' locks inside the kernel, which spins for them: eight threads storing 200,000 messages took
	// 92 s of system CPU against 8.7 s for one thread, and a month's bill day cost the sink 44-67 s instead of
	// 8-11. A store takes tens of microseconds, so one at a time is still thousands a second.
	mu sync.Mutex
}

func openMaildir(root string) (*maildir, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o777); err != nil {
			return nil, err
		}
	}
	return &maildir{root: root, pid: strconv.Itoa(os.Getpid())}, nil
}

// uniqueName is "<unix-nanos>.<pid>_<counter>.premiums": unique across connections (the counter is atomic)
// and across restarts (the clock and the PID), and sorting the names sorts the messages by arrival.
func (m *maildir) uniqueName() string {
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
	b = append(b, '.')
	b = append(b, m.pid...)
	b = append(b, '_')
	b = strconv.AppendUint(b, m.counter.Add(1), 10)
	b = append(b, ".premiums"...)
	return string(b)
}

// store writes content to tmp/<name>, then renames it to new/<name>; it returns the name. Plain system
// calls: os.OpenFile and os.Rename would add an fstat, four fcntl and an epoll_ctl per message.
func (m *maildir) store(content []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name := m.uniqueName()
	tmp := m.root + "/tmp/" + name
	fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o666)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	for rest := content; len(rest) > 0 && err == nil; {
		var n int
		n, err = syscall.Write(fd, rest)
		if err == syscall.EINTR {
			err = nil
		}
		if n > 0 {
			rest = rest[n:]
		} else if err == nil {
			err = io.ErrShortWrite
		}
	}
	if closeErr := syscall.Close(fd); err == nil {
		err = closeErr
	}
	if err == nil {
		err = syscall.Rename(tmp, m.root+"/new/"+name)
	}
	if err != nil {
		syscall.Unlink(tmp)
		return "", &os.PathError{Op: "store", Path: tmp, Err: err}
	}
	return name, nil
}

// ---- a buffered log on stdout -------------------------------------------------------------------------

type logger struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLogger(out io.Writer) *logger {
	l := &logger{w: bufio.NewWriterSize(out, 64*1024)}
	go func() {
		for range time.Tick(250 * time.Millisecond) {
			l.flush()
		}
	}()
	return l
}

func (l *logger) line(s string) {
	l.mu.Lock()
	l.w.WriteString(s)
	l.w.WriteByte('\n')
	l.mu.Unlock()
}

func (l *logger) flush() {
	l.mu.Lock()
	l.w.Flush()
	l.mu.Unlock()
}

// ---- the server -------------------------------------------------------------------------------------

type server struct {
	box      *maildir
	log      *logger
	stopping atomic.Bool
	mu       sync.Mutex
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

func (srv *server) serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || srv.stopping.Load() {
				return
			}
			fmt.Fprintf(os.Stderr, "smtp sink: accept: %v\n", err)
			time.Sleep(50 * time.Millisecond) // e.g. out of file descriptors: do not spin
			continue
		}
		s := &session{
			srv:  srv,
			conn: conn,
			r:    bufio.NewReaderSize(conn, readBuffer),
			w:    bufio.NewWriterSize(conn, 4096),
		}
		if !srv.register(s) {
			conn.Close()
			continue
		}
		go s.serve()
	}
}

func (srv *server) register(s *session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopping.Load() {
		return false
	}
	srv.sessions[s] = struct{}{}
	srv.wg.Add(1)
	return true
}

func (srv *server) unregister(s *session) {
	srv.mu.Lock()
	delete(srv.sessions, s)
	srv.mu.Unlock()
	srv.wg.Done()
}

// shutdown wakes the sessions waiting for a command outside a transaction (they answer 421 and close) and
// gives the others up to `grace` to finish their message. It reports whether every session ended.
func (srv *server) shutdown(grace time.Duration) bool {
	srv.mu.Lock()
	srv.stopping.Store(true)
	for s := range srv.sessions {
		s.mu.Lock()
		if s.idle {
			s.conn.SetReadDeadline(time.Now())
		}
		s.mu.Unlock()
	}
	srv.mu.Unlock()
	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(grace):
		return false
	}
}

// ---- one SMTP session -----------------------------------------------------------------------------

type session struct {
	srv  *server
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	mu   sync.Mutex // guards idle (read by shutdown)
	idle bool       // waiting for a command outside a transaction

	greeted bool
	inMail  bool
	from    string
	rcpts   []string
	buf     []byte

	chunked bool // a BDAT transaction is under way (RFC 3030): buf holds the chunks so far
	header  int  // where the message starts in buf, after the Return-Path and X-Envelope-To lines
	tooBig  bool // the chunks so far are over maxMessage: the rest is read and dropped
}

func (s *session) reply(line string) {
	s.w.WriteString(line)
	s.w.WriteString("\r\n")
}

// flushIfDrained sends the buffered replies once every pipelined command already received is answered.
func (s *session) flushIfDrained() {
	if s.w.Buffered() > 0 && s.r.Buffered() == 0 {
		s.w.Flush()
	}
}

func (s *session) reset() {
	s.inMail = false
	s.from = ""
	s.rcpts = s.rcpts[:0]
	s.chunked = false
	s.tooBig = false
}

// awaitCommand flushes the replies and arms the idle timeout; false when the server is stopping.
func (s *session) awaitCommand() bool {
	s.flushIfDrained()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.stopping.Load() && !s.inMail {
		return false
	}
	s.idle = !s.inMail
	s.conn.SetReadDeadline(time.Now().Add(idleTimeout))
	return true
}

func (s *session) busy() {
	s.mu.Lock()
	s.idle = false
	s.mu.Unlock()
}

func (s *session) serve() {
	defer s.srv.unregister(s)
	defer s.conn.Close()
	s.reply("220 " + serverName + " ESMTP")
	for {
		if !s.awaitCommand() {
			s.reply("421 " + serverName + " shutting down")
			s.w.Flush()
			return
		}
		line, err := s.readCommand()
		s.busy()
		if errors.Is(err, errLineTooLong) {
			s.reply("500 Error: line too long")
			continue
		}
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				if s.srv.stopping.Load() {
					s.reply("421 " + serverName + " shutting down")
				} else {
					s.reply("421 Error: timeout exceeded")
				}
				s.w.Flush()
			}
			return // EOF, reset, timeout
		}
		if !s.command(line) {
			s.w.Flush()
			return
		}
	}
}

// readCommand returns one command line without its line ending (valid until the next read).
func (s *session) readCommand() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = s.r.ReadSlice('\n')
		}
		if err == nil {
			err = errLineTooLong
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if len(line) > maxCommandLine {
		return nil, errLineTooLong
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// command handles one command line; false ends the session.
func (s *session) command(line []byte) bool {
	verb, arg, _ := strings.Cut(string(line), " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToUpper(verb) {
	case "EHLO":
		if arg == "" {
			s.reply("501 Syntax: EHLO hostname")
			break
		}
		s.greeted = true
		s.reset()
		s.reply("250-" + serverName)
		s.reply("250-8BITMIME")
		s.reply("250-SIZE " + strconv.Itoa(maxMessage))
		s.reply("250-PIPELINING")
		s.reply("250-CHUNKING")
		s.reply("250 SMTPUTF8")
	case "HELO":
		if arg == "" {
			s.reply("501 Syntax: HELO hostname")
			break
		}
		s.greeted = true
		s.reset()
		s.reply("250 " + serverName)
	case "MAIL":
		s.mail(arg)
	case "RCPT":
		s.rcpt(arg)
	case "DATA":
		return s.data(arg)
	case "BDAT":
		return s.bdat(arg)
	case "RSET":
		if arg != "" {
			s.reply("501 Syntax: RSET")
			break
		}
		s.reset()
		s.reply("250 OK")
	case "NOOP":
		s.reply("250 OK")
	case "QUIT":
		s.reply("221 Bye")
		return false
	case "VRFY":
		if arg == "" {
			s.reply("501 Syntax: VRFY <address>")
			break
		}
		s.reply("252 Cannot VRFY user, but will accept message and attempt delivery")
	case "HELP":
		s.reply("250 Supported commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY")
	case "":
		s.reply("500 Error: bad syntax")
	default:
		s.reply(`502 Error: command "` + strings.ToUpper(verb) + `" not recognized`)
	}
	return true
}

// path splits "FROM:<address> PARAMS" (after the keyword) into the address and its parameters.
func path(arg, keyword string) (address string, params []string, ok bool) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return "", nil, false
	}
	rest := strings.TrimSpace(arg[len(keyword):])
	if strings.HasPrefix(rest, "<") {
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return "", nil, false
		}
		address, rest = rest[1:end], rest[end+1:]
		if rest != "" && rest[0] != ' ' {
			return "", nil, false
		}
	} else {
		address, rest, _ = strings.Cut(rest, " ")
		if address == "" {
			return "", nil, false
		}
	}
	return address, strings.Fields(rest), true
}

func (s *session) mail(arg string) {
	if !s.greeted {
		s.reply("503 Error: send HELO first")
		return
	}
	if s.inMail {
		s.reply("503 Error: nested MAIL command")
		return
	}
	address, params, ok := path(arg, "FROM:")
	if !ok {
		s.reply("501 Syntax: MAIL FROM: <address>")
		return
	}
	for _, param := range params {
		key, value, _ := strings.Cut(param, "=")
		switch strings.ToUpper(key) {
		case "SIZE":
			size, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				s.reply("501 Error: SIZE requires a number")
				return
			}
			if size > maxMessage {
				s.reply("552 Error: message size exceeds fixed maximum message size")
				return
			}
		case "BODY":
			if v := strings.ToUpper(value); v != "7BIT" && v != "8BITMIME" {
				s.reply("501 Error: BODY can only be one of 7BIT, 8BITMIME")
				return
			}
		case "SMTPUTF8":
		default:
			s.reply("555 MAIL FROM parameters not recognized or not implemented")
			return
		}
	}
	s.inMail = true
	s.from = address
	s.reply("250 OK")
}

func (s *session) rcpt(arg string) {
	if !s.greeted {
		s.reply("503 Error: send HELO first")
		return
	}
	if !s.inMail {
		s.reply("503 Error: need MAIL command")
		return
	}
	address, _, ok := path(arg, "TO:")
	if !ok || address == "" {
		s.reply("501 Syntax: RCPT TO: <address>")
		return
	}
	if len(s.rcpts) >= maxRecipients {
		s.reply("452 Error: too many recipients")
		return
	}
	s.rcpts = append(s.rcpts, address)
	s.reply("250 OK")
}

// data receives one message and stores it; false ends the session (the connection broke mid-message).
func (s *session) data(arg string) bool {
	if !s.greeted {
		s.reply("503 Error: send HELO first")
		return true
	}
	if len(s.rcpts) == 0 {
		s.reply("503 Error: need RCPT command")
		return true
	}
	if arg != "" {
		s.reply("501 Syntax: DATA")
		return true
	}
	if s.chunked {
		s.reply("503 Error: BDAT transaction in progress")
		return true
	}
	s.reply("354 End data with <CR><LF>.<CR><LF>")
	s.conn.SetReadDeadline(time.Now().Add(dataTimeout))

	buf := s.envelopeHeader()
	header := len(buf)
	tooBig := false
	atLineStart := true
	for {
		s.flushIfDrained()
		chunk, err := s.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return false // EOF or timeout in the middle of a message: nothing is stored
		}
		if atLineStart {
			if err == nil && (string(chunk) == ".\r\n" || string(chunk) == ".\n") {
				break
			}
			if chunk[0] == '.' { // dot-unstuffing (RFC 5321 §4.5.2)
				chunk = chunk[1:]
			}
		}
		atLineStart = err == nil // a line longer than the read buffer arrives in several chunks
		if tooBig {
			continue
		}
		if len(buf)-header+len(chunk) > maxMessage {
			tooBig = true // keep reading to the end of the message, then say so (RFC 5321 §4.2.5)
			continue
		}
		buf = append(buf, chunk...)
	}
	s.finish(buf, tooBig)
	return true
}

// envelopeHeader starts a message in the session's buffer: its Return-Path and one X-Envelope-To per recipient.
func (s *session) envelopeHeader() []byte {
	buf := s.buf[:0]
	buf = append(buf, "Return-Path: <"...)
	buf = append(buf, s.from...)
	buf = append(buf, ">\r\n"...)
	for _, rcpt := range s.rcpts {
		buf = append(buf, "X-Envelope-To: <"...)
		buf = append(buf, rcpt...)
		buf = append(buf, ">\r\n"...)
	}
	return buf
}

// finish stores a whole message (or says it was too big), answers, and ends the transaction.
func (s *session) finish(buf []byte, tooBig bool) {
	if cap(buf) <= keepBuffer {
		s.buf = buf[:0]
	} else {
		s.buf = nil
	}
	switch {
	case tooBig:
		s.reply("552 Error: Too much mail data")
	default:
		name, err := s.srv.box.store(buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "smtp sink: cannot store a message from <%s>: %v\n", s.from, err)
			s.reply("451 Requested action aborted: local error in processing")
		} else {
			s.srv.log.line("stored " + name + " from " + s.from + " to " + strings.Join(s.rcpts, ", "))
			s.reply("250 Message accepted for delivery")
		}
	}
	s.reset()
}

// bdat receives one chunk of a message (RFC 3030 CHUNKING): exactly size octets follow the command, with no
// dot-stuffing and no end marker. The octets are read whatever the answer, so a client that pipelines whole
// transactions (MAIL, RCPT, BDAT LAST and the message in one write) stays in step after a refusal. The chunk
// marked LAST completes the message, which is stored as DATA would store it. false ends the session.
func (s *session) bdat(arg string) bool {
	sizeArg, last, _ := strings.Cut(arg, " ")
	last = strings.TrimSpace(last)
	size, err := strconv.ParseUint(sizeArg, 10, 63)
	if err != nil || (last != "" && !strings.EqualFold(last, "LAST")) {
		s.reply("501 Syntax: BDAT chunk-size [LAST]")
		return false // the chunk's length is unknown: the session cannot stay in step
	}
	s.conn.SetReadDeadline(time.Now().Add(dataTimeout))
	refusal := ""
	switch {
	case !s.greeted:
		refusal = "503 Error: send HELO first"
	case !s.inMail:
		refusal = "503 Error: need MAIL command"
	case len(s.rcpts) == 0:
		refusal = "554 Error: no valid recipients"
	}
	if refusal != "" {
		if _, err := s.r.Discard(int(size)); err != nil {
			return false
		}
		s.reply(refusal)
		if last != "" {
			s.reset()
		}
		return true
	}
	buf := s.buf
	if !s.chunked {
		s.chunked = true
		buf = s.envelopeHeader()
		s.header = len(buf)
	}
	if s.tooBig || uint64(len(buf)-s.header)+size > maxMessage {
		s.tooBig = true
		if _, err := s.r.Discard(int(size)); err != nil {
			return false
		}
	} else {
		start := len(buf)
		if cap(buf)-start < int(size) {
			grown := make([]byte, start, start+int(size))
			copy(grown, buf)
			buf = grown
		}
		buf = buf[:start+int(size)]
		if _, err := io.ReadFull(s.r, buf[start:]); err != nil {
			return false // the connection broke mid-chunk: nothing is stored
		}
	}
	s.buf = buf
	if last == "" {
		s.reply("250 " + strconv.FormatUint(size, 10) + " octets received")
		return true
	}
	s.finish(buf, s.tooBig)
	return true
}

// ---- main -------------------------------------------------------------------------------------------

func envOr(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}

func main() {
	os.Exit(run())
}

func run() int {
	defaultPort, err := strconv.Atoi(envOr("SMTP_PORT", "1025"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "smtp sink: SMTP_PORT=%q is not a port number\n", os.Getenv("SMTP_PORT"))
		return 1
	}
	host := flag.String("host", envOr("SMTP_HOST", "127.0.0.1"), "address to listen on")
	port := flag.Int("port", defaultPort, "port to listen on")
	dir := flag.String("maildir", envOr("PREMIUMS_MAILDIR", ".local/mail"), "the Maildir messages are stored in")
	flag.Parse()

	root, err := filepath.Abs(*dir)
	if err != nil {
		root = *dir
	}
	box, err := openMaildir(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smtp sink: cannot create the Maildir %s: %v\n", root, err)
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "smtp sink: cannot listen on %s:%d: %v\n", *host, *port, err)
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	log := newLogger(os.Stdout)
	log.line(fmt.Sprintf("smtp sink listening on %s:%d, maildir %s", *host, *port, root))
	log.flush()
	srv := &server{box: box, log: log, sessions: map[*session]struct{}{}}
	go srv.serve(ln)

	<-signals
	log.line("smtp sink stopping")
	log.flush()
	ln.Close()
	if !srv.shutdown(shutdownGrace) {
		log.line("smtp sink: sessions still open after the grace period, exiting anyway")
	}
	log.flush()
	return 0
}
